from pathlib import Path

from ase.io import read

from mlip_transfer.files import write_frames
from mlip_transfer.logs import log_to
from mlip_transfer.reference import cp2k, cp2k_output

log = log_to(snakemake.log[0])
atoms = read(snakemake.input.box)
max_iterations = snakemake.params.max_iterations
if max_iterations > 0:
    tree = cp2k.relaxation_input_tree(
        atoms, snakemake.params.electronic_structure, project="relax", max_iterations=max_iterations
    )
    folder = Path(snakemake.params.run_dir)
    output = cp2k.run_input(
        tree,
        folder,
        "relax",
        command=snakemake.params.launch.command,
        threads=snakemake.threads,
        xmlspec=snakemake.input.schema,
        reference=False,  # the packed start may pass through unconverged SCFs; the AIMD's are checked
    )
    atoms.positions = read(folder / cp2k_output.md_file_name("relax", "positions"), index=-1).positions
    log.info("relaxed %s: final energy %.4f eV", snakemake.wildcards.system, cp2k_output.final_energy_eV(output))
write_frames(snakemake.output[0], atoms)
