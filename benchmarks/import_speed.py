"""Import rate and peak memory of an AIMD archive of production size.

Writes a CP2K run as CP2K writes it (its positions, forces and energies files; by default 60,000
frames of a 288-atom box, a 30 ps run printed every 0.5 fs step: about 1.2 GB per XYZ file), then times, in a
fresh process each:

- the planning scan (what the workflow reads of the files at every start: first frames and last lines);
- the import job (:func:`mlip_transfer.reference.imported.import_trajectory`: every frame parsed, checked
  and written as extended XYZ), with the process's peak resident memory beside the size of its files, without
  and with the frame checks (:mod:`mlip_transfer.reference.plausibility`, the schema's default limits).

    python benchmarks/import_speed.py [--frames 60000] [--atoms 288] [--folder /tmp/import_speed]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from ase.data import atomic_numbers

from mlip_transfer.reference.box import Composition, build_box
from mlip_transfer.reference.cp2k_output import HARTREE_EV, md_file_name

STEP_FS = 0.5
PROJECT = "run"  # the CP2K project whose files are written
PRODUCTION_E0S_EV = {"H": -12.581, "O": -431.591, "K": -767.148}  # BLYP-D3 isolated atoms (README)


def write_archive(folder: Path, frames: int, atoms: int, seed: int = 1) -> None:
    """A CP2K-format run of about ``atoms`` atoms (KOH + water, 1 KOH per 24 molecules, packed at the density of
    288 atoms in 14.2 Å; positions jiggled by 0.03 Å about the packed box, energies 4.4 eV/atom below
    production's E0s, forces with an RMS component of 1 eV/Å: frames the frame checks pass)."""
    rng = np.random.default_rng(seed)
    n_oh = max(1, atoms // 72)
    n_water = max(1, (atoms - 3 * n_oh) // 3)
    box = build_box(Composition(n_oh, n_water, "K"), 14.2 * (3 * (n_oh + n_water) / 288) ** (1 / 3), seed=seed)
    symbols = box.get_chemical_symbols()
    e0_sum_eV = sum(PRODUCTION_E0S_EV[s] for s in symbols)
    line = "".join(f"{s:>3} %20.10f %20.10f %20.10f\n" for s in symbols)
    folder.mkdir(parents=True, exist_ok=True)
    with (
        open(folder / md_file_name(PROJECT, "positions"), "w") as pos,
        open(folder / md_file_name(PROJECT, "forces"), "w") as frc,
        open(folder / md_file_name(PROJECT, "energies"), "w") as ener,
    ):
        ener.write("#     Step Nr.          Time[fs]        Kin.[a.u.]          Temp[K]            Pot.[a.u.]\n")
        for step in range(frames):
            positions = box.positions + rng.normal(0, 0.03, box.positions.shape)
            forces = rng.normal(0, 0.02, positions.shape)
            energy = (e0_sum_eV - 4.4 * len(symbols)) / HARTREE_EV + rng.normal(0, 0.01)
            comment = f"{len(symbols):8d}\n i = {step:8d}, time = {step * STEP_FS:12.3f}, E = {energy:20.10f}\n"
            pos.write(comment + line % tuple(positions.ravel()))
            frc.write(comment + line % tuple(forces.ravel()))
            ener.write(f"{step:10d} {step * STEP_FS:16.6f} 0.5 330.0 {energy:20.10f} -1699.0 1.0\n")


CHILD = """
import json, resource, sys, time
from mlip_transfer.reference.cp2k_output import TRAJECTORY_FILES, md_file_name
from mlip_transfer.limits import FrameLimits
from mlip_transfer.reference.imported import TrajectorySource, import_trajectory, scan
from mlip_transfer.reference.plausibility import FrameCheck
folder, task, project, limits, e0s = sys.argv[1:6]
check = FrameCheck(FrameLimits.from_params(json.loads(limits)), {int(z): e for z, e in json.loads(e0s).items()})
source = TrajectorySource.from_config({
    "format": "cp2k", **{kind: [f"{folder}/{md_file_name(project, kind)}"] for kind in TRAJECTORY_FILES},
    "cell_A": 14.2, "equilibration_ps": 0,
})
start = time.perf_counter()
tasks = {
    "scan": scan,
    "import": lambda s: import_trajectory(s, f"{folder}/frames.extxyz"),
    "checked import": lambda s: import_trajectory(s, f"{folder}/frames.extxyz", check=check),
    "none": lambda s: None,
}
header = tasks[task](source)
seconds = time.perf_counter() - start
peak_MiB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "frames": header.frames if header else 0, "peak_MiB": peak_MiB}))
"""


def measure(folder: Path, task: str) -> dict:
    e0s = json.dumps({atomic_numbers[s]: e for s, e in PRODUCTION_E0S_EV.items()})
    command = [sys.executable, "-c", CHILD, str(folder), task, PROJECT, json.dumps(schema_frame_limits()), e0s]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def schema_frame_limits() -> dict:
    """The schema's default frame_checks (the limits every job checks frames against unless a config says)."""
    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "schema.yaml").read_text())
    return {key: entry["default"] for key, entry in schema["properties"]["frame_checks"]["properties"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60_000)
    parser.add_argument("--atoms", type=int, default=288)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/import_speed"))
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    write_archive(args.folder, args.frames, args.atoms)
    sizes_GB = {f.name: f.stat().st_size / 1e9 for f in sorted(args.folder.glob(f"{PROJECT}*"))}
    print(f"archive: {args.frames} frames of {args.atoms} atoms written in {time.perf_counter() - start:.0f} s:")
    for name, size in sizes_GB.items():
        print(f"  {name:16s} {size:6.2f} GB")
    baseline = measure(args.folder, "none")  # the interpreter with NumPy, ASE and the package loaded
    scan = measure(args.folder, "scan")
    job = measure(args.folder, "import")
    checked = measure(args.folder, "checked import")
    output_GB = (args.folder / "frames.extxyz").stat().st_size / 1e9
    print(f"{'step':40s} {'frames':>8s} {'seconds':>9s} {'frames/s':>10s} {'peak memory':>12s}")
    rows = (
        ("planning scan", scan),
        ("import (parse, check data, write)", job),
        ("import with the frame checks", checked),
    )
    for name, result in rows:
        rate = result["frames"] / result["seconds"]
        print(f"{name:40s} {result['frames']:8d} {result['seconds']:9.3f} {rate:10.0f} {result['peak_MiB']:8.0f} MiB")
    archive_MiB = sum(sizes_GB.values()) * 1e9 / 2**20
    above = job["peak_MiB"] - baseline["peak_MiB"]
    per_frame_ms = 1000 * (checked["seconds"] - job["seconds"]) / job["frames"]
    print(f"the frame checks: {per_frame_ms:.3f} ms per frame")
    print(f"extended XYZ written: {output_GB:.2f} GB")
    print(
        f"peak memory of the import above the bare process ({baseline['peak_MiB']:.0f} MiB): {above:.0f} MiB, "
        f"{above / archive_MiB:.4f} × the {archive_MiB:.0f} MiB archive"
    )


if __name__ == "__main__":
    main()
