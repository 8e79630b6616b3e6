"""The fast MD engine (``md.engine: torch_sim``): NVT MD of several boxes in one batch with torch-sim.

torch-sim (Radical AI, https://github.com/Radical-AI/torch-sim) evaluates MACE on a batch of systems in
one forward pass and integrates on the device, with no ASE calculator between steps. Every box of a model
(each concentration and replica) runs in one batch, as one graph with one neighbour list
(:mod:`.batched_mace`).

Kept from the ASE reference path (:mod:`mlip_transfer.dynamics.ase_engine`): the same start (ASE's Maxwell–Boltzmann
velocities from ``seed``, centre-of-mass motion removed), the same thermostat semantics, the same H5MD
layout per box (positions unwrapped), the same sanity guards, and exact resume: every frame stores
torch's random state, and a rerun continues all boxes from the last frame they all have.

Thermostats: ``bussi`` is torch-sim's velocity Verlet (``nve``) with the stochastic velocity rescaling of
Bussi et al. (J. Chem. Phys. 126, 014101 (2007)) applied per box before each step, exactly as ASE's
``Bussi`` does (Eq. A7, 3N degrees of freedom); ``langevin`` is torch-sim's BAOAB Langevin integrator
with friction ``friction_per_fs``. Units: ASE's (Å, eV, amu; time in Å·(amu/eV)^½), which torch-sim shares.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator

from ..files import partial_path
from ..models import mace
from ..units import fs_to_ps
from . import trajectory
from .ase_engine import THERMOSTATS, MDError, RunSettings, check_frame, run_to_trajectories, thermalize
from .trajectory import H5MDWriter


def load_model(model_path: str | os.PathLike, device: str, default_dtype: str, enable_cueq: bool = False):
    """A MACE model file as a torch-sim model of a batch of boxes (energies and forces only; one neighbour list
    for the whole batch on the device, :class:`~mlip_transfer.dynamics.batched_mace.BatchedMace`)."""
    from .batched_mace import BatchedMace

    device = mace.resolve_device(device)
    model = mace.load_module(model_path, device, default_dtype)
    if enable_cueq:  # converted here: torch-sim 0.3.0's own conversion leaves the model on the CPU
        from mace.cli.convert_e3nn_cueq import run as run_e3nn_to_cueq

        model = run_e3nn_to_cueq(model, device=device)
    return BatchedMace(model, device=torch.device(device), dtype=getattr(torch, default_dtype))


MEMORY_FRACTION = 0.8  # of the GPU's free memory a batch may plan to use


def boxes_per_batch(n_boxes: int, step_GB_per_box: float | None, free_GB: float | None) -> int:
    """How many boxes one batch takes: all of them where memory is not measured (CPU), else as many as fit in
    ``MEMORY_FRACTION`` of the free GPU memory at the measured peak of one box's step (memory grows linearly
    with the boxes of a batch: one graph, edges ∝ atoms × density)."""
    if step_GB_per_box is None or free_GB is None:
        return n_boxes
    fitting = int(MEMORY_FRACTION * free_GB / step_GB_per_box)
    if fitting < 1:
        raise MDError(f"one box needs {step_GB_per_box:.1f} GB per step; {free_GB:.1f} GB of GPU memory are free")
    return min(n_boxes, fitting)


def measured_step_memory_GB(model, boxes: Sequence[Atoms]) -> tuple[float | None, float | None]:
    """(peak GPU memory of one energy-and-forces evaluation of the largest box, free GPU memory), in GB, from
    torch-sim's own measurement; (None, None) on a CPU."""
    if model.device.type != "cuda":
        return None, None
    from torch_sim.autobatching import measure_model_memory_forward
    from torch_sim.io import atoms_to_state

    largest = max(boxes, key=len)
    peak = measure_model_memory_forward(atoms_to_state([largest], model.device, model.dtype), model)
    return peak, torch.cuda.mem_get_info(model.device)[0] / 1024**3


def md_state(model, boxes: Sequence[Atoms]):
    """torch-sim MD state of ``boxes`` (positions, momenta from each box's velocities), energies and forces."""
    from torch_sim.integrators.md import MDState
    from torch_sim.io import atoms_to_state

    state = atoms_to_state(list(boxes), model.device, model.dtype)
    momenta = torch.tensor(np.concatenate([a.get_momenta() for a in boxes]), device=model.device, dtype=model.dtype)
    output = model(state)
    return MDState(
        positions=state.positions,
        momenta=momenta,
        energy=output["energy"],
        forces=output["forces"],
        masses=state.masses,
        cell=state.cell,
        pbc=state.pbc,
        system_idx=state.system_idx,
        atomic_numbers=state.atomic_numbers,
    )


def bussi_rescale(state, kT_eV: torch.Tensor, degrees_of_freedom: torch.Tensor, exp_term: float) -> None:
    """Bussi et al. (2007) stochastic velocity rescaling of each system, in place (Eq. A7, as ASE's ``Bussi``)."""
    n_boxes = state.cell.shape[0]  # state.n_systems would copy to the host every step
    kinetic = torch.zeros(n_boxes, device=state.device, dtype=state.dtype)
    kinetic.index_add_(0, state.system_idx, 0.5 * (state.momenta**2).sum(-1) / state.masses)
    target = 0.5 * kT_eV * degrees_of_freedom
    scaling = (1.0 - exp_term) * target / kinetic / degrees_of_freedom
    normal = torch.randn(n_boxes, device=state.device, dtype=state.dtype)
    chi2 = 2.0 * torch._standard_gamma(0.5 * (degrees_of_freedom - 1))  # chi² with ndof − 1 degrees of freedom
    alpha = torch.sqrt(exp_term + scaling * (chi2 + normal**2) + 2.0 * normal * torch.sqrt(exp_term * scaling))
    state.momenta = state.momenta * alpha[state.system_idx].unsqueeze(-1)


def nvt_step(model, state, *, temperatures_K: Sequence[float], timestep_fs: float, thermostat: Mapping):
    """A function advancing the batch by one NVT step at each system's temperature."""
    from torch_sim.integrators import nve, nvt_langevin

    dt = torch.tensor(timestep_fs * units.fs, device=state.device, dtype=state.dtype)
    kT = torch.tensor([units.kB * t for t in temperatures_K], device=state.device, dtype=state.dtype)
    kind = thermostat["type"]
    if kind == "bussi":
        _, verlet = nve(model, dt=dt, kT=kT)
        dof = 3.0 * torch.bincount(state.system_idx).to(state.dtype)  # ASE: 3N for unconstrained atoms
        exp_term = math.exp(-timestep_fs / thermostat["time_constant_fs"])

        def step(s):
            bussi_rescale(s, kT, dof, exp_term)
            return verlet(s, dt=dt)

        return step
    if kind == "langevin":
        gamma = torch.tensor(thermostat["friction_per_fs"] / units.fs, device=state.device, dtype=state.dtype)
        _, langevin = nvt_langevin(model, dt=dt, kT=kT, gamma=gamma)
        return lambda s: langevin(s, dt=dt, kT=kT, gamma=gamma)
    raise ValueError(f"md.thermostat.type: unknown thermostat {kind!r}; expected one of {THERMOSTATS}")


def random_state(device: torch.device) -> str:
    """torch's random state (CPU, and CUDA where the batch runs there) as JSON."""
    states = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return json.dumps({k: base64.b64encode(v.numpy().tobytes()).decode() for k, v in states.items()})


def set_random_state(text: str, device: torch.device) -> None:
    states = {
        k: torch.frombuffer(bytearray(base64.b64decode(v)), dtype=torch.uint8) for k, v in json.loads(text).items()
    }
    torch.set_rng_state(states["cpu"])
    if "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


def run_nvt_batch(
    starts: Sequence[Atoms],
    model,
    trajectory_paths: Sequence[str | os.PathLike],
    *,
    temperatures_K: Sequence[float],
    run: RunSettings,
    velocity_seeds: Sequence[int] | None = None,
) -> list[int]:
    """Run ``run.steps`` NVT steps of every box in ``starts`` as one batch on ``model`` (:func:`load_model`),
    writing every ``run.write_interval``-th frame of box i to ``trajectory_paths[i]`` (H5MD, as
    :func:`mlip_transfer.dynamics.ase_engine.run_nvt`); return the number of frames of each.

    Box i starts with Maxwell–Boltzmann velocities from ``velocity_seeds[i]`` (default: ``run.seed`` for
    every box); the thermostat noise of the batch comes from ``run.seed``. Each box is written to its
    partial file (:func:`~mlip_transfer.files.partial_path`) and renamed when all are done. If every box has
    a partial file, the run continues from the last frame that all of them hold (positions, velocities, torch's
    random state, step); frames after it are dropped. A frame of any box that breaks ``run.limits`` raises
    :class:`~mlip_transfer.dynamics.ase_engine.MDError` naming the box, and the partial files keep every frame
    before it; with ``run.keep_unstable`` the batch ends there instead and every box's trajectory is kept, marked
    with the reason (the other boxes: stopped with it).
    """
    partials = [partial_path(p) for p in trajectory_paths]
    boxes = [a.copy() for a in starts]
    checkpoint = _restore(partials, boxes)
    if checkpoint is None:
        seeds = velocity_seeds or [run.seed] * len(boxes)
        for box, temperature, seed in zip(boxes, temperatures_K, seeds, strict=True):
            thermalize(box, temperature, seed)
        torch.manual_seed(run.seed)
        first_step, kept = 0, None
    else:
        first_step, kept, state_text = checkpoint
        set_random_state(state_text, model.device)
        logging.getLogger(__name__).info("resuming %d boxes from step %d of %d", len(boxes), first_step, run.steps)

    def integrate() -> None:
        with ExitStack() as stack:
            writers = [
                stack.enter_context(
                    H5MDWriter(p, b, timestep_ps=fs_to_ps(run.timestep_fs), append=kept is not None, keep=kept)
                )
                for p, b in zip(partials, boxes, strict=True)
            ]
            _integrate(model, boxes, writers, trajectory_paths, temperatures_K, run, first_step, kept is None)

    return run_to_trajectories(integrate, trajectory_paths, run)


def _integrate(
    model,
    boxes: Sequence[Atoms],
    writers: Sequence[H5MDWriter],
    trajectory_paths: Sequence[str | os.PathLike],
    temperatures_K: Sequence[float],
    run: RunSettings,
    first_step: int,
    fresh: bool,
) -> None:
    """Step the batch from ``first_step`` to ``run.steps``, writing every ``run.write_interval``-th frame of
    every box once all of them pass the guards (and, in a ``fresh`` run, the starting frame)."""
    state = md_state(model, boxes)
    step = nvt_step(model, state, temperatures_K=temperatures_K, timestep_fs=run.timestep_fs, thermostat=run.thermostat)
    unwrapped = (
        state.positions.detach().clone()
    )  # torch-sim wraps positions into the cell; the MSD needs them unwrapped
    edges = torch.tensor(np.array([b.cell.lengths() for b in boxes]), device=state.device, dtype=state.dtype)
    edges = edges[state.system_idx]

    def write(n: int) -> None:
        text = random_state(state.device)
        frames = [_frame(box, state, unwrapped, i) for i, box in enumerate(boxes)]
        for frame, path in zip(frames, trajectory_paths, strict=True):  # every box checked before any write
            try:
                check_frame(frame, n, run.limits)
            except MDError as error:
                raise MDError(f"{path}: {error}") from error
        for writer, frame in zip(writers, frames, strict=True):
            writer.write(frame, n, text)

    if fresh:
        write(0)
    for n in range(first_step + 1, run.steps + 1):
        before = state.positions.detach().clone()
        state = step(state)
        moved = state.positions.detach() - before
        unwrapped += moved - edges * torch.round(moved / edges)  # minimum image: steps are ≪ L/2
        if n % run.write_interval == 0:
            write(n)


def _frame(box: Atoms, state, unwrapped: torch.Tensor, i: int) -> Atoms:
    """Box ``i`` of the batch as ASE atoms: unwrapped positions, momenta, energy and forces."""
    mask = state.system_idx == i
    frame = Atoms(box.numbers, positions=unwrapped[mask].cpu().numpy(), cell=box.cell, pbc=True)
    frame.set_momenta(state.momenta[mask].detach().cpu().numpy())
    frame.calc = SinglePointCalculator(
        frame, energy=float(state.energy[i]), forces=state.forces[mask].detach().cpu().numpy()
    )
    return frame


def _restore(partials: Sequence[Path], boxes: Sequence[Atoms]) -> tuple[int, int, str] | None:
    """Load the last frame all partial files hold into ``boxes``; return (step, frames kept, random state),
    or None (removing stale partial files) when not every box has one to continue from."""
    if not all(p.exists() for p in partials):
        for p in partials:
            p.unlink(missing_ok=True)
        return None
    n = min(trajectory.frame_count(p) for p in partials)
    frames = [trajectory.checkpoint(p, frame=n - 1) for p in partials] if n else [None]
    if any(f is None for f in frames) or len({f.step for f in frames}) != 1:
        return None
    for frame, box in zip(frames, boxes, strict=True):
        box.positions = frame.positions_A
        box.set_velocities(frame.velocities_A_per_ps / trajectory.ASE_VELOCITY_IN_A_PER_PS)
    return frames[0].step, n, frames[0].random_state
