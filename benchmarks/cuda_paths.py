"""The workflow's CUDA code paths run for real on a GPU, with timings: fine-tuning through ``mace_run_train``
(float64, float32, float32 + cuEquivariance), evaluation, and MD with both engines.

    python benchmarks/cuda_paths.py --work DIR [--frames 40] [--epochs 3]

Data: 288-atom KOH(aq) boxes (6.26 mol/L) from the project's box builder, rattled by 0.1 Å and labelled
by a random ScaleShiftMACE of MACE-MP-0 medium's architecture; the foundation model is another random
model of that architecture. These stand in for DFT frames and MACE-MP-0: the check is that each path
runs and how fast, not what the model learns. Printed:

- per training: wall time, seconds per epoch from the timestamps of mace's per-epoch validation lines
  (training and validation of ``--frames`` frames, scaled to 1,000 frames), final validation force RMSE;
- evaluation on CUDA of the float64 fine-tune: force RMSE against the labels, and max |ΔF| to CPU;
- MD on CUDA: ASE + MACECalculator and torch-sim (7 boxes batched), ms per step and frames written.
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from ase.io import write

from mlip_transfer.dynamics import torch_sim_engine
from mlip_transfer.dynamics.ase_engine import RunSettings, run_nvt
from mlip_transfer.limits import SanityLimits
from mlip_transfer.models.evaluation import error_metrics, predict
from mlip_transfer.models.mace import load_calculator, random_model
from mlip_transfer.models.training import mace_train_command, run_training, trained_model_path
from mlip_transfer.reference.box import build_box, composition_for_molarity, cubic_box_length_A
from mlip_transfer.reference.frames import ENERGY_KEY, FORCES_KEY

FINE_TUNE = {"max_num_epochs": 3, "batch_size": 4, "lr": 0.001, "forces_weight": 100.0, "energy_weight": 1.0}
# The models here are random: their MD is not physical, so the guards only catch a numerical blow-up.
LIMITS = SanityLimits(max_temperature_K=1e6, min_distance_A=0.05)
THERMOSTAT = {"type": "bussi", "time_constant_fs": 100.0}
EPOCH_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) INFO: Epoch (\d+):.*RMSE_F=\s*([\d.]+)", re.M)


def labelled_frames(labeller: Path, n: int, device: str) -> list:
    calculator = load_calculator(labeller, device, "float64")
    composition = composition_for_molarity(6.26, 96, cation="K")
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        atoms = build_box(composition, cubic_box_length_A(composition), seed=i)
        atoms.positions += rng.normal(0.0, 0.1, atoms.positions.shape)
        atoms.calc = calculator
        atoms.info[ENERGY_KEY] = atoms.get_potential_energy()
        atoms.arrays[FORCES_KEY] = atoms.get_forces()
        atoms.calc = None
        frames.append(atoms)
    return frames


def epoch_seconds(log: str) -> tuple[float, float]:
    """Seconds between the first and last per-epoch validation lines per epoch, and the last force RMSE."""
    stamps = [(datetime.strptime(t, "%Y-%m-%d %H:%M:%S.%f"), int(e), float(f)) for t, e, f in EPOCH_LINE.findall(log)]
    if len(stamps) < 2:
        raise RuntimeError(f"fewer than two epoch lines in the training log:\n{log[-2000:]}")
    (t0, e0, _), (t1, e1, rmse) = stamps[0], stamps[-1]
    return (t1 - t0).total_seconds() / (e1 - e0), rmse


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="folder for data, models, logs, trajectories")
    parser.add_argument("--frames", type=int, default=40, help="labelled frames (80 %% training, 20 %% validation)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--md-steps", type=int, default=50)
    parser.add_argument("--skip-training", action="store_true", help="MD and evaluation of the foundation model only")
    parser.add_argument("--device", default="cuda", help="cpu only to smoke-test this script")
    parser.add_argument("--channels", type=int, default=128, help="fewer only to smoke-test this script")
    args = parser.parse_args()
    device = args.device
    print(f"device: {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}, torch {torch.__version__}")
    args.work.mkdir(parents=True, exist_ok=True)
    foundation = random_model(args.work / "foundation.model", channels=args.channels, seed=1)
    labeller = random_model(args.work / "labeller.model", channels=args.channels, seed=2)
    frames = labelled_frames(labeller, args.frames, device)
    n_train = int(0.8 * len(frames))
    write(args.work / "train.xyz", frames[:n_train], format="extxyz")
    write(args.work / "valid.xyz", frames[n_train:], format="extxyz")
    e0s = {1: 0.0, 8: 0.0, 19: 0.0}

    print(f"\nfine-tuning, {n_train} training + {len(frames) - n_train} validation frames of 288 atoms:")
    print(f"{'run':<28} {'wall s':>7} {'s/epoch':>8} {'s/epoch per 1000 frames':>24} {'valid RMSE_F meV/Å':>19}")
    models = {}
    trainings = [("f64", "float64", False), ("f32", "float32", False), ("f32_cueq", "float32", True)]
    for name, dtype, cueq in [] if args.skip_training else trainings:
        work_dir = args.work / name
        command = mace_train_command(
            name=name,
            train_file=args.work / "train.xyz",
            valid_file=args.work / "valid.xyz",
            work_dir=work_dir,
            e0s_eV=e0s,
            hyperparameters={**FINE_TUNE, "max_num_epochs": args.epochs},
            device=device,
            default_dtype=dtype,
            seed=1,
            foundation_model=foundation,
            enable_cueq=cueq,
        )
        start = time.perf_counter()
        try:
            run_training(command, threads=8, log_file=args.work / f"{name}.log", work_dir=work_dir)
        except Exception as err:  # report and go on: one failing path must not hide the others
            print(f"{name:<28} FAILED: {str(err)[-1500:]}")
            continue
        wall = time.perf_counter() - start
        per_epoch, rmse = epoch_seconds((args.work / f"{name}.log").read_text())
        models[name] = trained_model_path(work_dir, name)
        per_1000 = per_epoch * 1000 / len(frames)
        print(f"{name + ' (' + dtype + ')':<28} {wall:>7.1f} {per_epoch:>8.2f} {per_1000:>24.1f} {rmse:>19.2f}")

    if "f64" in models:
        valid = frames[n_train:]
        on_gpu = predict(load_calculator(models["f64"], device, "float64"), valid)
        on_cpu = predict(load_calculator(models["f64"], "cpu", "float64"), valid)
        metrics = error_metrics(on_gpu)
        gap = np.abs(on_gpu.forces_pred_eV_per_A - on_cpu.forces_pred_eV_per_A).max()
        print(
            f"\nevaluation on CUDA (f64 fine-tune, {len(valid)} frames): force RMSE "
            f"{metrics['force_rmse_meV_per_A']:.2f} meV/Å; max |F_cuda - F_cpu| = {gap:.2e} eV/Å"
        )

    model = models.get("f64", foundation)
    composition = composition_for_molarity(6.26, 96, cation="K")
    start_box = build_box(composition, cubic_box_length_A(composition), seed=100)  # unrattled
    settings = RunSettings(
        timestep_fs=0.5, steps=args.md_steps, write_interval=10, thermostat=THERMOSTAT, seed=3, limits=LIMITS
    )
    t = time.perf_counter()
    calculator = load_calculator(model, device, "float64")
    n = run_nvt(start_box, calculator, args.work / "ase.h5", temperature_K=300.0, run=settings)
    print(f"\nMD on CUDA, ASE float64: {1000 * (time.perf_counter() - t) / args.md_steps:.1f} ms/step, {n} frames")
    t = time.perf_counter()
    counts = torch_sim_engine.run_nvt_batch(
        [start_box] * 7,
        torch_sim_engine.load_model(model, device, "float64"),
        [args.work / f"ts_{i}.h5" for i in range(7)],
        temperatures_K=[300.0] * 7,
        run=settings,
    )
    print(
        f"MD on CUDA, torch-sim float64, 7 boxes: {1000 * (time.perf_counter() - t) / args.md_steps:.1f} ms/step "
        f"(all boxes), frames {counts}"
    )


if __name__ == "__main__":
    main()
