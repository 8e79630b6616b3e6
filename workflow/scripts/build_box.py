from ase.io import write

from mlip_transfer.box import Composition, build_box, cubic_box_length_A
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
box = snakemake.params.box
composition = Composition(box["n_koh"], box["n_water"])
length = box["box_length_A"] or cubic_box_length_A(composition)
atoms = build_box(composition, length, seed=box["seed"])
log.info(
    "%s: %d KOH + %d H2O in a %.3f Å cubic box",
    snakemake.wildcards.system,
    composition.n_koh,
    composition.n_water,
    length,
)
with atomic_path(snakemake.output[0]) as path:
    write(path, atoms, format="extxyz")
