"""CP2K inputs written with cp2k-input-tools, checked against the installed CP2K, and CP2K runs.

Inputs are built as cp2k-input-tools' canonical trees (``+SECTION`` keys, repeated sections as lists)
and rendered by :class:`~cp2k_input_tools.generator.CP2KInputGenerator`; the rendered text is parsed back
with the ``cp2k --xml`` schema of the CP2K that will run it, so a keyword the installed version does not
know fails here rather than on a compute node. Units follow CP2K: Å for coordinates and cells, fs for
times, K for temperatures, Ry for cutoffs, Hartree for energies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ase import Atoms
from ase.data import atomic_numbers
from cp2k_input_tools.generator import CP2KInputGenerator
from cp2k_input_tools.parser import CP2KInputParser

from ..chemistry import ISOLATED_ATOM_MULTIPLICITY
from ..files import sha256, sha256_of_text
from . import cp2k_output
from .cp2k_output import CP2KError

METHODS = ("xtb", "dft")
# Where CP2K's basis-set and pseudopotential files are looked for: $CP2K_DATA_DIR, then Debian's places
DATA_DIRS = ("/usr/share/cp2k/data", "/usr/share/cp2k")


def data_dir() -> Path | None:
    """The installed CP2K's data folder (basis sets, pseudopotentials), if one can be found here."""
    for folder in filter(None, (os.environ.get("CP2K_DATA_DIR"), *DATA_DIRS)):
        if Path(folder).is_dir():
            return Path(folder)
    return None


def missing_basis_or_potential(dft: Mapping, elements: Sequence[str], folder: str | os.PathLike) -> tuple | None:
    """(config key, problem) of the first element whose basis set or pseudopotential named in the config the
    CP2K data files in ``folder`` do not hold (or of a data file that is not there); None if all are there."""
    for kind, file_key in (("basis_sets", "basis_set_file"), ("potentials", "potential_file")):
        path = Path(folder) / dft[file_key]
        if not path.exists():
            return f"cp2k.dft.{file_key}", f"{path} does not exist"
        known = {(f[0], name) for f in (line.split() for line in path.read_text().splitlines()) if f for name in f[1:]}
        for element in elements:
            name = dft[kind].get(element)
            if name is None:
                return f"cp2k.dft.{kind}", f"no entry for element {element}"
            if (element, name) not in known:
                return f"cp2k.dft.{kind}.{element}", f"{name} is not in {path} for element {element}"
    return None


def _dft_section(method: Mapping, charge: int = 0, multiplicity: int | None = None) -> dict:
    name = method["method"]
    if name == "xtb":
        section = {
            "charge": charge,
            # an alkali cation carries a GFN1 charge slightly above CP2K's "chemical range" check (1.05 e)
            "+qs": {"method": "xTB", "+xtb": {"do_ewald": multiplicity is None, "check_atomic_charges": False}},
            "+scf": {"scf_guess": "restart" if multiplicity is None else "atomic", "eps_scf": 1e-6, "max_scf": 100},
        }
    elif name == "dft":
        dft = method["dft"]
        xc = {"+xc_functional": {"_": dft["functional"]}}
        if dft.get("dispersion") == "D3":
            xc["+vdw_potential"] = {
                "potential_type": "PAIR_POTENTIAL",
                "+pair_potential": {
                    "type": "DFTD3",
                    "parameter_file_name": "dftd3.dat",
                    "reference_functional": dft["functional"],
                },
            }
        section = {
            "charge": charge,
            "basis_set_file_name": dft["basis_set_file"],
            "potential_file_name": dft["potential_file"],
            "+mgrid": {"cutoff": dft["cutoff_Ry"], "rel_cutoff": dft["rel_cutoff_Ry"]},
            "+qs": {"eps_default": 1e-12},
            "+scf": {
                "scf_guess": "restart" if multiplicity is None else "atomic",
                "eps_scf": 1e-6,
                "max_scf": 50,
                "+ot": {"minimizer": "DIIS", "preconditioner": "FULL_SINGLE_INVERSE"},
                "+outer_scf": {"max_scf": 20, "eps_scf": 1e-6},
            },
            "+xc": xc,
        }
    else:
        raise ValueError(f"cp2k.method: unknown method {name!r}; expected one of {METHODS}")
    if multiplicity is not None:
        section["uks"] = True
        section["multiplicity"] = multiplicity
        section["+poisson"] = {"periodic": "NONE", "psolver": "MT"}
        if name == "dft":
            # The triplet O atom's partly filled, degenerate 2p shell: diagonalisation (Broyden mixing, even with
            # Fermi-Dirac smearing at a fixed moment) sloshes between the degenerate orbitals and never reaches
            # EPS_SCF; OT with integer occupations converges. Measured with BLYP-D3/DZVP-MOLOPT-SR/GTH at 400 Ry
            # in a 10 Å box: conjugate gradients with the kinetic preconditioner take 5 (H), 45 (K) and 193 (O)
            # steps; for O at 200 Ry in 8 Å, 143 steps, against 247 with FULL_ALL, while the DIIS and Broyden
            # minimisers and FULL_SINGLE_INVERSE stalled near a 1e-5 gradient (not converged in 300 steps).
            section["+scf"] = {
                **section["+scf"],
                "max_scf": 400,
                "+ot": {"minimizer": "CG", "linesearch": "2PNT", "preconditioner": "FULL_KINETIC"},
            }
            del section["+scf"]["+outer_scf"]
    return section


def _kinds(symbols: Sequence[str], method: Mapping) -> list[dict]:
    if method["method"] != "dft":
        return []
    dft = method["dft"]
    return [
        {"_": s, "basis_set": dft["basis_sets"][s], "potential": dft["potentials"][s]}
        for s in sorted(set(symbols), key=atomic_numbers.get)
    ]


def _subsys(atoms: Atoms, method: Mapping, periodic: bool) -> dict:
    cell = {"abc": [float(x) for x in atoms.cell.lengths()]}
    if not periodic:
        cell["periodic"] = "NONE"
    subsys = {
        "+cell": cell,
        "+coord": {
            "*": [
                f"{s} {x:.8f} {y:.8f} {z:.8f}"
                for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions, strict=True)
            ]
        },
    }
    kinds = _kinds(atoms.get_chemical_symbols(), method)
    if kinds:
        subsys["+kind"] = kinds
    return subsys


def single_point_input_tree(atoms: Atoms, method: Mapping, *, project: str) -> dict:
    """Energy and forces of the given positions as step 0 of an AIMD (:func:`aimd_input_tree`): CP2K prints
    them in the AIMD's own files, read by the AIMD's own reader. At step 0 neither the thermostat nor the
    initial velocities act on energy or forces; their settings here are placeholders."""
    return aimd_input_tree(
        atoms,
        method,
        project=project,
        steps=0,
        timestep_fs=0.5,
        temperature_K=300.0,
        thermostat_time_constant_fs=100.0,
        print_every=1,
        seed=1,
    )


def aimd_input_tree(
    atoms: Atoms,
    method: Mapping,
    *,
    project: str,
    steps: int,
    timestep_fs: float,
    temperature_K: float,
    thermostat_time_constant_fs: float,
    print_every: int,
    seed: int,
) -> dict:
    """NVT AIMD with a CSVR thermostat, printing positions, forces and energies every ``print_every`` steps."""
    every = {"+each": {"md": print_every}}
    return {
        "+global": {"project_name": project, "run_type": "MD", "print_level": "LOW", "seed": seed},
        "+force_eval": [
            {
                "method": "QS",
                "+dft": _dft_section(method),
                "+subsys": _subsys(atoms, method, periodic=True),
            }
        ],
        "+motion": {
            "+md": {
                "ensemble": "NVT",
                "steps": steps,
                "timestep": timestep_fs,
                "temperature": temperature_K,
                "+thermostat": {"type": "CSVR", "+csvr": {"timecon": thermostat_time_constant_fs}},
            },
            "+print": {
                "+trajectory": {"format": "XYZ", **every},
                "+forces": {"format": "XYZ", **every},
                "+restart": {"backup_copies": 0, "+each": {"md": max(1, print_every)}},
                "+restart_history": {"+each": {"md": 0}},
            },
        },
    }


def relaxation_input_tree(atoms: Atoms, method: Mapping, *, project: str, max_iterations: int) -> dict:
    """BFGS geometry optimisation that takes a freshly packed box to a local minimum before AIMD.

    A randomly packed box releases several eV as its hydrogen-bond network forms; started from it,
    the AIMD heats by hundreds of kelvin before the thermostat catches up.
    """
    return {
        "+global": {"project_name": project, "run_type": "GEO_OPT", "print_level": "LOW"},
        "+force_eval": [
            {"method": "QS", "+dft": _dft_section(method), "+subsys": _subsys(atoms, method, periodic=True)}
        ],
        "+motion": {"+geo_opt": {"optimizer": "BFGS", "max_iter": max_iterations}},
    }


def isolated_atom_input_tree(element: str, method: Mapping, *, box_length_A: float) -> dict:
    """Single-point energy of one spin-polarised atom in a non-periodic box (reference energy E0)."""
    atoms = Atoms(element, positions=[[box_length_A / 2] * 3], cell=[box_length_A] * 3)
    return {
        "+global": {"project_name": f"atom_{element}", "run_type": "ENERGY", "print_level": "LOW"},
        "+force_eval": [
            {
                "method": "QS",
                "+dft": _dft_section(method, multiplicity=ISOLATED_ATOM_MULTIPLICITY[element]),
                "+subsys": _subsys(atoms, method, periodic=False),
            }
        ],
    }


def render_input(tree: Mapping, xmlspec: str | os.PathLike | None = None) -> str:
    """CP2K input text for a canonical tree, validated by parsing it back against ``xmlspec``."""
    generator = CP2KInputGenerator(xmlspec) if xmlspec else CP2KInputGenerator()
    text = "\n".join(generator.line_iter(tree)) + "\n"
    validate_input(text, xmlspec)
    return text


def validate_input(text: str, xmlspec: str | os.PathLike | None = None) -> None:
    """Raise :class:`CP2KError` if the installed CP2K's schema rejects ``text``."""
    parser = CP2KInputParser(xmlspec=str(xmlspec) if xmlspec else None)
    with tempfile.NamedTemporaryFile("w", suffix=".inp") as handle:
        handle.write(text)
        handle.flush()
        try:
            with open(handle.name) as fhandle:
                parser.parse(fhandle)
        except Exception as err:  # cp2k-input-tools raises several unrelated types
            raise CP2KError(f"CP2K input rejected by schema {xmlspec or '(bundled)'}: {err}") from err


# Open MPI started inside a SLURM task joins that task's PMIx (or PMI) namespace as its rank 0, which works
# once per task: the second CP2K of one job (a chunk of single points) died in MPI_Init. Without the task's
# identity CP2K starts as a singleton, and a launcher (srun, mpirun) makes its own step as it would anyway.
SLURM_TASK_IDENTITY = ("PMIX_", "PMI_", "SLURM_STEP_ID", "SLURM_STEPID")


def cp2k_environment(threads: int) -> dict[str, str]:
    """This process's environment for CP2K or its launcher: ``threads`` OpenMP threads per rank and none of
    the MPI identity of the SLURM task that runs the job."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(SLURM_TASK_IDENTITY)}
    return {**env, "OMP_NUM_THREADS": str(threads)}


def write_input_schema(command: Sequence[str], destination: str | os.PathLike) -> Path:
    """Run ``<cp2k> --xml`` and store the schema of the installed CP2K at ``destination``."""
    binary = shutil.which(command[-1])
    if binary is None:
        raise CP2KError(f"cp2k.command: CP2K binary {command[-1]!r} not found on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([binary, "--xml"], cwd=tmp, check=True, capture_output=True, env=cp2k_environment(1))
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(Path(tmp) / "cp2k_input.xml", destination)
    return destination


def cp2k_version(command: Sequence[str]) -> str:
    out = subprocess.run(
        [*command[-1:], "--version"], capture_output=True, text=True, check=True, env=cp2k_environment(1)
    ).stdout
    return out.splitlines()[0].strip()


def run_cp2k(
    command: Sequence[str],
    input_file: str | os.PathLike,
    output_file: str | os.PathLike,
    *,
    threads: int,
    reference: bool = True,
) -> None:
    """Run CP2K in the input's folder with ``threads`` OpenMP threads; fail unless it ended cleanly, and (for
    a ``reference`` run, whose energies and forces are data) unless every SCF converged."""
    input_file, output_file = Path(input_file).resolve(), Path(output_file).resolve()
    with open(output_file, "w") as out:
        proc = subprocess.run(
            [*command, "-i", input_file.name],
            cwd=input_file.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cp2k_environment(threads),
        )
    cp2k_output.check_finished(output_file.read_text(), output_file, input_file, proc.returncode, reference)


def run_input(
    tree: Mapping,
    directory: str | os.PathLike,
    name: str,
    *,
    command: Sequence[str],
    threads: int,
    xmlspec: str | os.PathLike | None = None,
    reference: bool = True,
) -> Path:
    """Render ``tree`` to ``<directory>/<name>.inp``, run CP2K there and return the output file (``reference``:
    see :func:`run_cp2k`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    input_file = directory / cp2k_output.input_name(name)
    input_file.write_text(render_input(tree, xmlspec))
    output_file = directory / cp2k_output.output_name(name)
    run_cp2k(command, input_file, output_file, threads=threads, reference=reference)
    return output_file


def run_resumable(
    tree: Mapping,
    directory: str | os.PathLike,
    project: str,
    *,
    command: Sequence[str],
    threads: int,
    xmlspec: str | os.PathLike | None = None,
    start_from: str | os.PathLike | None = None,
) -> Path:
    """Run a CP2K MD (or one walltime-sized segment of it) in ``directory`` up to MD step ``STEPS`` of ``tree``.

    ``start_from`` is the restart file of the previous segment: the run continues from its positions,
    velocities, thermostat and step counter (&EXT_RESTART) and runs the steps left up to ``STEPS``, and from
    that segment's last SCF wavefunction where one is beside it (or in its ``run/`` folder), rather than from
    the atomic guess.
    An interrupted run leaves its restart file (written every ``print_every`` steps) and its
    trajectory files. If the input and the starting restart file are unchanged (their SHA-256 is kept
    beside them), the trajectory files are cut back to their last whole frame and CP2K continues from that
    restart file, appending to them; steps between the restart file and the interruption are written
    twice, and :func:`mlip_transfer.reference.frames.cp2k_frames` keeps the later copy. Anything else starts over.
    Returns the output file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    text = render_input(tree, xmlspec)
    if start_from is not None:
        text += sha256(start_from)
    digest = sha256_of_text(text)
    stamp, restart = directory / "input.sha256", directory / cp2k_output.md_file_name(project, "restart")
    if restart.exists() and stamp.exists() and stamp.read_text() == digest:
        for trajectory in cp2k_output.xyz_file_names(project):
            if (directory / trajectory).exists():
                cp2k_output.truncate_xyz_to_whole_frames(directory / trajectory)
    else:
        for stale in directory.glob(f"{project}*"):
            stale.unlink()
        stamp.write_text(digest)
        restart = None
        if start_from is not None:
            restart = directory / "start.restart"
            shutil.copyfile(start_from, restart)
            name = cp2k_output.wavefunction_name(project)
            for wavefunction in (Path(start_from).parent / name, Path(start_from).parent / "run" / name):
                if wavefunction.exists():  # read by the SCF_GUESS RESTART the AIMD input asks for
                    shutil.copyfile(wavefunction, directory / name)
                    break
    if restart is not None:
        # with restored counters CP2K runs STEPS more steps after STEP_START_VAL: ask for what is left
        md = {**tree["+motion"]["+md"], "steps": tree["+motion"]["+md"]["steps"] - cp2k_output.restart_step(restart)}
        if md["steps"] <= 0:
            return directory / cp2k_output.output_name(project)
        tree = {**tree, "+motion": {**tree["+motion"], "+md": md}, "+ext_restart": {"restart_file_name": restart.name}}
    return run_input(tree, directory, project, command=command, threads=threads, xmlspec=xmlspec)
