"""MD and training speed of a MACE-MP-0-medium-sized model on a production KOH(aq) box.

    python benchmarks/md_speed.py                 # full table (on 2 CPU cores: about 10 minutes)
    python benchmarks/md_speed.py --steps 2 --replicas 7 --device cuda

A 288-atom box (96 oxygens, 6.26 mol/L) from the project's box builder and a ScaleShiftMACE with
MACE-MP-0 medium's architecture and random weights (which do not change the speed). Each engine runs
Bussi NVT steps (0.5 fs) after one untimed warm-up step:

- ASE + MACECalculator (the reference path) in float64, float32, and float32 with cuEquivariance (GPU);
- torch-sim (md.engine: torch_sim) in float64, float32 and float32 + cuEquivariance (GPU), with one box
  and with ``--replicas`` boxes in one batch
  (aggregate throughput: boxes × steps per second).

Printed: ms per step, steps/s and ns/day per trajectory, and each ratio to ASE float64 from this same run;
the largest float32 force deviation from float64 relative to the RMS force; and the seconds per epoch of
1,000 such frames for fine-tuning, from timed training steps (forward with forces, energy + force MSE,
backward, Adam step) on one frame in each dtype (data loading and validation not included).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from mlip_transfer.dynamics import torch_sim_engine
from mlip_transfer.dynamics.ase_engine import nvt_dynamics
from mlip_transfer.models.mace import load_calculator, random_model, resolve_device
from mlip_transfer.reference.box import build_box, composition_for_molarity, cubic_box_length_A

TIMESTEP_FS = 0.5
THERMOSTAT = {"type": "bussi", "time_constant_fs": 100.0}


def production_box():
    composition = composition_for_molarity(6.26, 96)
    box = build_box(composition, cubic_box_length_A(composition), seed=1)
    box.set_velocities(np.random.default_rng(0).normal(0, 0.003, (len(box), 3)))  # Å/fs-scale thermal motion
    return box


def synchronise(device):
    if device == "cuda":
        torch.cuda.synchronize()


def time_ase(model_file, device, dtype, steps, enable_cueq=False):
    box = production_box()
    box.calc = load_calculator(model_file, device, dtype, enable_cueq)
    dynamics = nvt_dynamics(box, temperature_K=300, timestep_fs=TIMESTEP_FS, thermostat=THERMOSTAT, seed=1)
    dynamics.run(1)
    synchronise(device)
    start = time.perf_counter()
    dynamics.run(steps)
    synchronise(device)
    return (time.perf_counter() - start) / steps


def start_forces(model_file, device, dtype):
    """Forces (eV/Å) on the production box before any step."""
    box = production_box()
    box.calc = load_calculator(model_file, device, dtype)
    return box.get_forces()


def time_torch_sim(model_file, device, dtype, steps, replicas, enable_cueq=False):
    model = torch_sim_engine.load_model(model_file, device, dtype, enable_cueq)
    state = torch_sim_engine.md_state(model, [production_box() for _ in range(replicas)])
    step = torch_sim_engine.nvt_step(
        model, state, temperatures_K=[300] * replicas, timestep_fs=TIMESTEP_FS, thermostat=THERMOSTAT
    )
    state = step(state)
    synchronise(device)
    start = time.perf_counter()
    for _ in range(steps):
        state = step(state)
    synchronise(device)
    return (time.perf_counter() - start) / steps


def training_seconds_per_epoch(model_file, device, dtype, steps, enable_cueq=False, frames=1000):
    """Timed training steps on one 288-atom frame (forces on), scaled to ``frames`` frames."""
    torch.set_default_dtype(getattr(torch, dtype))
    calculator = load_calculator(model_file, device, dtype, enable_cueq)
    model = calculator.models[0].train()
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    box = production_box()
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
    parser.add_argument("--steps", type=int, default=2, help="timed MD steps per engine (after one warm-up)")
    parser.add_argument("--replicas", type=int, default=7, help="boxes in the torch-sim batch")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--engines", default="", help="time only engines whose name contains this (and ASE float64)")
    parser.add_argument("--training-steps", type=int, default=2, help="timed training steps per dtype")
    args = parser.parse_args()
    device = resolve_device(args.device)
    gpu = torch.cuda.get_device_name() if device == "cuda" else None
    where = gpu or platform.processor() or "cpu"
    print(f"device: {where}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    cuda = device == "cuda"
    with tempfile.TemporaryDirectory() as tmp:
        model_file = random_model(Path(tmp) / "mace_mp_medium_random.model")
        forces64, forces32 = (start_forces(model_file, device, dtype) for dtype in ("float64", "float32"))
        deviation = np.abs(forces32 - forces64).max() / np.sqrt(np.mean(forces64**2))
        print(f"float32 vs float64 forces on the same frame: max |ΔF| / RMS F = {deviation:.2e}")
        # (engine, timing, trajectories per step); GPU-only engines are left out on CPU
        engines = [
            ("ASE float64", partial(time_ase, model_file, device, "float64", args.steps), 1),
            ("ASE float32", partial(time_ase, model_file, device, "float32", args.steps), 1),
            ("ASE float32 + cuEquivariance", partial(time_ase, model_file, device, "float32", args.steps, True), 1),
        ]
        for dtype, cueq in [("float64", False), ("float32", False), ("float32", True)]:
            name = f"torch-sim {dtype}{' + cuEq' if cueq else ''}"
            for boxes in (1, args.replicas):
                timing = partial(time_torch_sim, model_file, device, dtype, args.steps, boxes, cueq)
                engines.append((f"{name}, {boxes} box{'es batched' if boxes > 1 else ''}", timing, boxes))
        print(f"\nMD: 288 atoms, MACE-MP-0 medium architecture, {TIMESTEP_FS} fs steps, {args.steps} timed steps each")
        print(f"{'engine':<36} {'ms/step':>10} {'steps/s':>9} {'ns/day':>8} {'vs ASE f64':>11}", flush=True)
        ase64 = None
        for name, timing, boxes in engines:
            if ("cuEq" in name and not cuda) or not (args.engines in name or name == "ASE float64"):
                continue
            seconds = measured(name, timing)
            ase64 = ase64 or seconds
            rate = boxes / seconds  # trajectory steps per second (aggregate for a batch)
            print(
                f"{name:<36} {1000 * seconds:>10.1f} {rate:>9.3f} {rate * TIMESTEP_FS * 86400 / 1e6:>8.4f} "
                f"{rate * ase64:>10.2f}×",
                flush=True,
            )
        print("\nfine-tuning, 1,000 frames of 288 atoms per epoch (from timed steps on one frame):")
        for name, cueq in [("float64", False), ("float32", False), ("float32 + cuEquivariance", True)]:
            if args.training_steps == 0:
                continue
            if cueq and not cuda:
                print(f"  {name:<26} not measured (needs a CUDA GPU)")
                continue
            dtype = name.split()[0]
            seconds = measured(
                name, partial(training_seconds_per_epoch, model_file, device, dtype, args.training_steps, cueq)
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
