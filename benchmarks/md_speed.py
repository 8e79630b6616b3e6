"""MD and training speed of MACE on production KOH(aq) boxes, under a stated protocol.

    python benchmarks/md_speed.py --device cuda                   # the GPU table (warm-up 300, 1,000 timed, 2 repeats)
    python benchmarks/md_speed.py --device cpu --architecture small --budget-s 40 --boxes 1,7 --training-steps 0

(the CPU table: 28 float64 boxes, ~8,000 atoms, took more than 24 GiB on a CPU and were killed.)

Boxes of 96 ± 8 oxygens from the project's box builder at the production concentrations (0.56–17.98 mol/L);
one box is the 6.26 mol/L one, 7 boxes are the 7 concentrations and 28 boxes four replicas of each. The model
is a ScaleShiftMACE with MACE-MP-0 medium's (or small's) architecture and random weights, which do not change
the speed. Each row runs Bussi NVT steps (0.5 fs):

- ASE + MACECalculator (the reference path) in float64 — the baseline of every ratio, from this same run —
  float32, and float32 with cuEquivariance (GPU);
- torch-sim 0.3.0's own MACE wrapper (``MaceModel``: a neighbour list per box, through the host), float64;
- the batched engine (``md.engine: torch_sim``: :class:`mlip_transfer.dynamics.batched_mace.BatchedMace`, one
  on-device neighbour list for the whole batch, no stress) in float64, float32 and float32 + cuEquivariance
  (GPU), for 1, 7 and 28 boxes.

Protocol: per row ``--warmup`` untimed steps, then ``--repeats`` timed runs of ``--steps`` steps each (min and
median ms per step printed); where a row would exceed ``--budget-s`` seconds the step counts shrink to fit and
the printed counts say so. Printed per row: ms per batched step, ns/day per trajectory and aggregate (boxes ×
trajectory), and the aggregate throughput over ASE float64's. Then the largest float32 force deviation from
float64 relative to the RMS force, and the seconds per epoch of 1,000 frames for fine-tuning, from timed training
steps on one frame in each dtype (data loading and validation not included).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mlip_transfer.dynamics import torch_sim_engine
from mlip_transfer.dynamics.ase_engine import nvt_dynamics
from mlip_transfer.models.mace import load_calculator, load_module, random_model, resolve_device
from mlip_transfer.reference.box import build_box, composition_for_molarity, cubic_box_length_A

TIMESTEP_FS = 0.5
THERMOSTAT = {"type": "bussi", "time_constant_fs": 100.0}
MOLARITIES = (0.56, 1.13, 3.23, 6.26, 9.47, 13.40, 17.98)  # the production config's, mol/L
ARCHITECTURES = {  # MACE-MP-0's (hidden irreps 128x0e[+128x1o], max_ell 3, correlation 3, r_max 6 Å)
    "medium": {"channels": 128, "max_L": 1},
    "small": {"channels": 128, "max_L": 0},
}


def production_boxes(n: int):
    """1: the 6.26 mol/L box; 7: one per production concentration; 28: four replicas of each (their seeds)."""
    molarities = [6.26] if n == 1 else [m for m in MOLARITIES for _ in range(n // len(MOLARITIES))]
    boxes = []
    for i, molarity in enumerate(molarities):
        composition = composition_for_molarity(molarity, 96, cation="K")
        box = build_box(composition, cubic_box_length_A(composition), seed=1 + i)
        box.set_velocities(np.random.default_rng(i).normal(0, 0.003, (len(box), 3)))  # thermal-scale motion
        boxes.append(box)
    return boxes


def synchronise(device):
    if device == "cuda":
        torch.cuda.synchronize()


def ase_stepper(model_file, device, dtype, boxes, enable_cueq=False):
    (box,) = boxes
    box.calc = load_calculator(model_file, device, dtype, enable_cueq)
    dynamics = nvt_dynamics(box, temperature_K=300, timestep_fs=TIMESTEP_FS, thermostat=THERMOSTAT, seed=1)
    return lambda: dynamics.run(1)


def torch_sim_stepper(model, boxes):
    state = torch_sim_engine.md_state(model, boxes)
    step = torch_sim_engine.nvt_step(
        model, state, temperatures_K=[300] * len(boxes), timestep_fs=TIMESTEP_FS, thermostat=THERMOSTAT
    )
    holder = [state]

    def advance():
        holder[0] = step(holder[0])

    return advance


def batched_stepper(model_file, device, dtype, boxes, enable_cueq=False):
    return torch_sim_stepper(torch_sim_engine.load_model(model_file, device, dtype, enable_cueq), boxes)


def wrapper_stepper(model_file, device, dtype, boxes):
    from torch_sim.models.mace import MaceModel

    module = load_module(model_file, device, dtype)
    model = MaceModel(module, device=torch.device(device), dtype=getattr(torch, dtype), compute_stress=False)
    return torch_sim_stepper(model, boxes)


def timed(advance, device, args) -> tuple[list[float], int, int]:
    """(seconds per step of each repeat, warm-up steps, timed steps per repeat) under the protocol."""
    start = time.perf_counter()
    advance()  # the first step: compilation, allocation, and a first estimate of a step's time
    synchronise(device)
    first = time.perf_counter() - start
    warmup = max(0, min(args.warmup - 1, int(0.25 * args.budget_s / first)))
    for _ in range(warmup):
        advance()
    synchronise(device)
    per_step = (time.perf_counter() - start) / (warmup + 1)
    steps = max(1, min(args.steps, int(0.75 * args.budget_s / (args.repeats * per_step))))
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(steps):
            advance()
        synchronise(device)
        seconds.append((time.perf_counter() - start) / steps)
    return seconds, warmup + 1, steps


def neighbour_list_ms(model_file, device, dtype, boxes, repeats=5) -> float:
    """Median ms of the batched engine's neighbour-list call alone for ``boxes``: what a Verlet skin could save."""
    from torch_sim.io import atoms_to_state

    model = torch_sim_engine.load_model(model_file, device, dtype)
    state = atoms_to_state(boxes, model.device, model.dtype)
    cell = state.row_vector_cell
    pbc = torch.full((cell.shape[0], 3), True, device=model.device)
    seconds = []
    for _ in range(repeats):
        synchronise(device)
        start = time.perf_counter()
        model.neighbour_list(model.r_max, state.positions, cell.reshape(-1, 3), pbc, state.system_idx)
        synchronise(device)
        seconds.append(time.perf_counter() - start)
    return 1000 * statistics.median(seconds)


def start_forces(model_file, device, dtype):
    """Forces (eV/Å) on the 6.26 mol/L box before any step."""
    (box,) = production_boxes(1)
    box.calc = load_calculator(model_file, device, dtype)
    return box.get_forces()


def training_seconds_per_epoch(model_file, device, dtype, steps, enable_cueq=False, frames=1000):
    """Timed training steps on one 288-atom frame (forces on), scaled to ``frames`` frames."""
    torch.set_default_dtype(getattr(torch, dtype))
    calculator = load_calculator(model_file, device, dtype, enable_cueq)
    model = calculator.models[0].train()
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    (box,) = production_boxes(1)
    batch = calculator._atoms_to_batch(box)  # mace's own graph of the frame (neighbour list, one-hot species)
    reference = torch.zeros_like(batch["positions"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        optimizer.zero_grad()
        output = model(batch.to_dict(), training=True, compute_force=True)
        loss = output["energy"].square().mean() + (output["forces"] - reference).square().mean()
        loss.backward()
        optimizer.step()

    train_step()
    synchronise(device)
    start = time.perf_counter()
    for _ in range(steps):
        train_step()
    synchronise(device)
    torch.set_default_dtype(torch.float64)
    return frames * (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=int, default=300, help="untimed steps per row, the first included")
    parser.add_argument("--steps", type=int, default=1000, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats per row (min and median printed)")
    parser.add_argument("--budget-s", type=float, default=600.0, help="the most seconds a row may take")
    parser.add_argument("--boxes", default="1,7,28", help="batch sizes of the batched engine (multiples of 7 or 1)")
    parser.add_argument("--architecture", default="medium", choices=sorted(ARCHITECTURES))
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--engines", default="", help="time only rows whose name contains this (and ASE float64)")
    parser.add_argument("--training-steps", type=int, default=2, help="timed training steps per dtype")
    args = parser.parse_args()
    device = resolve_device(args.device)
    cuda = device == "cuda"
    where = torch.cuda.get_device_name() if cuda else platform.processor() or "cpu"
    print(f"device: {where}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"protocol: {args.warmup} warm-up steps, {args.repeats} × {args.steps} timed steps per row, at most "
          f"{args.budget_s:g} s a row (fewer steps where it would take longer: see each row)")  # fmt: skip
    batch_sizes = [int(n) for n in args.boxes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mace_mp_{args.architecture}_random.model"
        model_file = random_model(path, **ARCHITECTURES[args.architecture])
        rows = [  # (name, stepper factory, boxes)
            ("ASE float64", lambda b: ase_stepper(model_file, device, "float64", b), 1),
            ("ASE float32", lambda b: ase_stepper(model_file, device, "float32", b), 1),
            ("ASE float32 + cuEq", lambda b: ase_stepper(model_file, device, "float32", b, True), 1),
            ("torch-sim wrapper float64, 1 box", lambda b: wrapper_stepper(model_file, device, "float64", b), 1),
            ("torch-sim wrapper float64, 7 boxes", lambda b: wrapper_stepper(model_file, device, "float64", b), 7),
        ]
        for dtype, cueq in [("float64", False), ("float32", False), ("float32", True)]:
            for n in batch_sizes:
                name = f"batched {dtype}{' + cuEq' if cueq else ''}, {n} box{'es' if n > 1 else ''}"
                rows.append((name, lambda b, d=dtype, c=cueq: batched_stepper(model_file, device, d, b, c), n))
        print(f"\nMD: boxes of 96 ± 8 oxygens, MACE-MP-0 {args.architecture} architecture, {TIMESTEP_FS} fs steps")
        print(f"{'engine':<36} {'warm-up':>7} {'timed':>9} {'ms/step min':>11} {'median':>8} "
              f"{'ns/day/traj':>11} {'aggregate':>9} {'vs ASE f64':>10}", flush=True)  # fmt: skip
        ase64 = None
        for name, stepper, n in rows:
            if ("cuEq" in name and not cuda) or not (args.engines in name or name == "ASE float64"):
                continue
            try:
                seconds, warmup, steps = timed(stepper(production_boxes(n)), device, args)
            except Exception as err:  # one row that fails must not hide the others
                print(f"{name}: failed: {type(err).__name__}: {str(err)[:500]}", flush=True)
                continue
            best, median = min(seconds), statistics.median(seconds)
            ase64 = ase64 or best
            per_trajectory = TIMESTEP_FS * 86400 / 1e6 / best  # ns/day of each trajectory in the batch
            counts = f"{warmup:>7} {args.repeats:>3} × {steps:<4}"
            speed = f"{1000 * best:>11.1f} {1000 * median:>8.1f} {per_trajectory:>11.4f} {n * per_trajectory:>9.4f}"
            print(f"{name:<36} {counts} {speed} {n * ase64 / best:>9.2f}×", flush=True)
        print("\nneighbour list of the batched engine alone (float64; a Verlet skin could save at most this per step):")
        for n in batch_sizes:
            print(f"  {n:>3} boxes: {neighbour_list_ms(model_file, device, 'float64', production_boxes(n)):8.1f} ms")
        forces64, forces32 = (start_forces(model_file, device, dtype) for dtype in ("float64", "float32"))
        deviation = np.abs(forces32 - forces64).max() / np.sqrt(np.mean(forces64**2))
        print(f"\nfloat32 vs float64 forces on the same frame: max |ΔF| / RMS F = {deviation:.2e}")
        if args.training_steps:
            print("\nfine-tuning, 1,000 frames of 288 atoms per epoch (from timed steps on one frame):")
        for name, cueq in [("float64", False), ("float32", False), ("float32 + cuEquivariance", True)]:
            if args.training_steps == 0:
                continue
            if cueq and not cuda:
                print(f"  {name:<26} not measured (needs a CUDA GPU)")
                continue
            dtype = name.split()[0]
            seconds = measured(
                name, lambda d=dtype, c=cueq: training_seconds_per_epoch(model_file, device, d, args.training_steps, c)
            )
            print(f"  {name:<26} {seconds:8.0f} s/epoch ({seconds / 3600:.2f} h)", flush=True)


def measured(name, timing) -> float:
    """The timing's seconds, or NaN with the error printed: one engine that fails must not hide the others."""
    try:
        return timing()
    except Exception as err:
        print(f"{name}: failed: {type(err).__name__}: {str(err)[:500]}", flush=True)
        return float("nan")


if __name__ == "__main__":
    main()
