from ase.io import iread

from mlip_transfer.analysis import HBondCriterion, SolutionAnalysis
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
settings, timing = snakemake.params.analysis, snakemake.params.timing
analysis = SolutionAnalysis(
    frame_interval_ps=timing["frame_interval_ps"],
    criterion=HBondCriterion(settings["donor_acceptor_cutoff_A"], settings["angle_cutoff_deg"]),
    rdf_bin_width_A=settings["rdf_bin_width_A"],
    diffusion_window_ps=tuple(timing["diffusion_window_ps"]),
    skip_frames=timing["skip_frames"],
).run(iread(snakemake.input[0], index=":"))
for table, path in snakemake.output.items():
    analysis.results[table].to_csv(path, index=False)
