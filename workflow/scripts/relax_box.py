from pathlib import Path

from ase.io import read, write

from mlip_transfer import cp2k
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
settings = snakemake.params.cp2k
atoms = read(snakemake.input.box)
if settings["relax_max_iterations"] > 0:
    tree = cp2k.relaxation_input_tree(atoms, settings, project="relax", max_iterations=settings["relax_max_iterations"])
    folder = Path(snakemake.output[0]).parent
    cp2k.run_input(
        tree, folder, "relax", command=settings["command"], threads=snakemake.threads, xmlspec=snakemake.input.schema
    )
    relaxed = read(folder / "relax-pos-1.xyz", index=-1)
    atoms.positions = relaxed.positions
    log.info("relaxed %s: final energy %.4f eV", snakemake.wildcards.system, cp2k.final_energy_eV(folder / "relax.out"))
with atomic_path(snakemake.output[0]) as path:
    write(path, atoms, format="extxyz")
