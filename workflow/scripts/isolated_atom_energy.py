from mlip_transfer.logs import log_to
from mlip_transfer.reference import cp2k, cp2k_output
from mlip_transfer.reference.e0s import write_atom_energy_eV

log = log_to(snakemake.log[0])
element = snakemake.wildcards.element
tree = cp2k.isolated_atom_input_tree(
    element, snakemake.params.electronic_structure, box_length_A=snakemake.params.box_length_A
)
output = cp2k.run_input(
    tree,
    snakemake.params.run_dir,
    "atom",
    command=snakemake.params.launch.command,
    threads=snakemake.threads,
    xmlspec=snakemake.input.schema,
)
energy = cp2k_output.final_energy_eV(output)
log.info("E0(%s) = %.6f eV", element, energy)
write_atom_energy_eV(snakemake.output[0], energy)
