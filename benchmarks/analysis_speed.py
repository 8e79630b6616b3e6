"""Species + hydrogen-bond analysis throughput against MDAnalysis' HydrogenBondAnalysis, and peak memory.

    python benchmarks/analysis_speed.py [--frames 10000] [--chunk 32]

A 288-atom KOH(aq) box (11 KOH + 85 H2O, 96 oxygens, like the production boxes) moves as rigid molecules
that rattle and librate about their packed positions (Ornstein–Uhlenbeck processes: 0.25 Å and 12°
amplitudes, 0.2 ps and 0.1 ps correlation times, frames 10 fs apart, like MD written every 20 steps of
0.5 fs); the frames are written to an H5MD file as the MD stage writes them. It is a synthetic
trajectory for timing, with short-time motion like a liquid's but no diffusion; correctness is tested
in tests/test_analysis.py.

Both codes use the same criterion: O···O < 3.5 Å and O–H···O > 150°. Ours streams the file in chunks
(positions only); MDAnalysis gets the whole trajectory in memory (its fastest reader). Printed: frames
per second of each, their ratio, the number of bonds each found, and the peak memory (tracemalloc) of
our streaming pass.
"""

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from ase import Atoms
from scipy.spatial.transform import Rotation

from mlip_transfer.analysis.hbonds import HBondCriterion, classify_hbonds, hydrogen_bonds
from mlip_transfer.analysis.solution import SolutionAnalysis
from mlip_transfer.dynamics.trajectory import H5MDWriter, read_chunks
from mlip_transfer.geometry import chunk_geometries, kind_index
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A

CRITERION = HBondCriterion(
    donor_acceptor_cutoff_A=3.5, angle_cutoff_deg=None, donor_hydrogen_acceptor_min_angle_deg=150
)
FRAME_PS = 0.01
RATTLE_A, RATTLE_PS, LIBRATION_DEG, LIBRATION_PS = 0.25, 0.2, 12.0, 0.1


def write_trajectory(path: Path, n_frames: int, seed: int = 0) -> Atoms:
    composition = Composition(11, 85, "K")
    box = build_box(composition, cubic_box_length_A(composition), seed=seed)
    # molecules: K alone, OH⁻ (O, H), water (O, H, H), in build_box's order
    n_k = composition.n_hydroxide
    sizes = [1] * n_k + [2] * n_k + [3] * composition.n_water
    starts = np.cumsum([0, *sizes[:-1]])
    centres = np.array([box.positions[s] for s in starts])  # rotate about the K or O atom
    offsets = [box.positions[s : s + n] - box.positions[s] for s, n in zip(starts, sizes, strict=True)]
    rng = np.random.default_rng(seed)
    shift, angle = np.zeros_like(centres), np.zeros_like(centres)

    def ornstein_uhlenbeck(x, amplitude, time_ps):
        decay = np.exp(-FRAME_PS / time_ps)
        return x * decay + rng.normal(scale=amplitude * np.sqrt(1 - decay**2), size=x.shape)

    with H5MDWriter(path, box, FRAME_PS) as trajectory:
        for frame in range(n_frames):
            shift = ornstein_uhlenbeck(shift, RATTLE_A / np.sqrt(3), RATTLE_PS)
            angle = ornstein_uhlenbeck(angle, np.radians(LIBRATION_DEG) / np.sqrt(3), LIBRATION_PS)
            orientation = Rotation.from_rotvec(angle)
            moved = [c + d + r.apply(o) for c, d, r, o in zip(centres, shift, orientation, offsets, strict=True)]
            positions = np.concatenate(moved)
            trajectory.write(Atoms(box.symbols, positions=positions, cell=box.cell, pbc=True), step=frame)
    return box


def ours(path: Path, chunk: int) -> tuple[float, int]:
    start, n_frames, n_bonds = time.perf_counter(), 0, 0
    for c in read_chunks(path, chunk):
        index = kind_index(c.symbols, "K")
        for _, g in chunk_geometries(c.positions, index, c.box_A, CRITERION.donor_acceptor_cutoff_A):
            bonds = hydrogen_bonds(g, CRITERION)
            classify_hbonds(bonds, g.hydrogen_counts)
            n_bonds += len(bonds)
        n_frames += len(c.positions)
    return n_frames / (time.perf_counter() - start), n_bonds


def mdanalysis(path: Path) -> tuple[float, int]:
    import MDAnalysis as mda
    from MDAnalysis.analysis.hydrogenbonds import HydrogenBondAnalysis

    chunks = list(read_chunks(path, 256))
    positions = np.concatenate([c.positions for c in chunks]).astype(np.float32)
    symbols = list(chunks[0].symbols)
    universe = mda.Universe.empty(positions.shape[1], trajectory=True)
    universe.add_TopologyAttr("name", symbols)
    universe.add_TopologyAttr("type", symbols)
    universe.load_new(positions, order="fac", dimensions=[*chunks[0].box_A, 90, 90, 90])
    hba = HydrogenBondAnalysis(
        universe,
        donors_sel="name O",
        hydrogens_sel="name H",
        acceptors_sel="name O",
        d_a_cutoff=CRITERION.donor_acceptor_cutoff_A,
        d_h_a_angle_cutoff=CRITERION.donor_hydrogen_acceptor_min_angle_deg,
        d_h_cutoff=1.2,
    )
    start = time.perf_counter()
    hba.run()
    return len(positions) / (time.perf_counter() - start), len(hba.results.hbonds)


def full_analysis(path: Path) -> float:
    start = time.perf_counter()
    analysis = SolutionAnalysis(
        frame_interval_ps=FRAME_PS, cation="K", criterion=CRITERION, diffusion_window_ps=(1.0, 10.0)
    )
    analysis.run(read_chunks(path))
    return len(analysis.results["frames"]) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "koh_288.h5"
        box = write_trajectory(path, args.frames)
        print(f"trajectory: {args.frames} frames of {len(box)} atoms, {path.stat().st_size / 2**20:.0f} MiB on disk")
        ours_fps, ours_bonds = ours(path, args.chunk)
        mda_fps, mda_bonds = mdanalysis(path)
        print(f"species + H-bonds, ours (streamed from disk): {ours_fps:8.0f} frames/s, {ours_bonds} bonds")
        print(f"HydrogenBondAnalysis, MDAnalysis (in memory): {mda_fps:8.0f} frames/s, {mda_bonds} bonds")
        print(f"throughput ratio ours / MDAnalysis: {ours_fps / mda_fps:.1f}x")
        tracemalloc.start()
        ours(path, args.chunk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"peak memory of our streaming pass: {peak / 2**20:.1f} MiB (trajectory positions: "
            f"{args.frames * len(box) * 3 * 8 / 2**20:.0f} MiB)"
        )
        print(
            f"full SolutionAnalysis (species, H-bonds, lifetimes, K–O, RDFs every frame, MSDs): "
            f"{full_analysis(path):.0f} frames/s"
        )


if __name__ == "__main__":
    main()
