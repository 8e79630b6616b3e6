from pathlib import Path

from mlip_transfer import cp2k
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
settings, element = snakemake.params.cp2k, snakemake.wildcards.element
tree = cp2k.isolated_atom_input_tree(element, settings, box_length_A=settings["isolated_atom_box_A"])
output = cp2k.run_input(
    tree,
    Path(snakemake.output[0]).parent,
    "atom",
    command=settings["command"],
    threads=snakemake.threads,
    xmlspec=snakemake.input.schema,
)
energy = cp2k.final_energy_eV(output)
log.info("E0(%s) = %.6f eV", element, energy)
with atomic_path(snakemake.output[0]) as path:
    path.write_text(f"{energy!r}\n")
