from mlip_transfer.files import write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A

log = log_to(snakemake.log[0])
box = snakemake.params.box
composition = Composition(box["n_hydroxide"], box["n_water"], box["cation"])
length = box["box_length_A"] or cubic_box_length_A(composition)
atoms = build_box(composition, length, seed=box["seed"])
log.info("%s: %s in a %.3f Å cubic box", snakemake.wildcards.system, composition, length)
write_frames(snakemake.output[0], atoms)
