from mlip_transfer.analysis.hbonds import HBondCriterion
from mlip_transfer.analysis.solution import SolutionAnalysis
from mlip_transfer.dynamics.trajectory import read_chunks, stop_reason
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
settings = snakemake.params.analysis
analysis = SolutionAnalysis(
    frame_interval_ps=settings["frame_interval_ps"],
    temperature_K=settings["temperature_K"],
    criterion=HBondCriterion(**settings["criterion"]),
    rdf_bin_width_A=settings["rdf_bin_width_A"],
    diffusion_window_ps=tuple(settings["diffusion_window_ps"]),
    min_diffusion_window_ps=settings["min_diffusion_window_ps"],
    n_blocks=settings["diffusion_blocks"],
    viscosity_mPa_s=settings["viscosity_mPa_s"],
    persistence_ps=settings["proton_transfer_persistence_ps"],
    cation=settings["cation"],
    cation_o_cutoff_A=settings["cation_o_cutoff_A"],
    hbond_lifetime_max_ps=settings["hbond_lifetime_max_ps"],
    max_defect_mismatch_fraction=settings["max_defect_mismatch_fraction"],
    skip_frames=settings["skip_frames"],
).run(read_chunks(snakemake.input[0]))
stopped = stop_reason(snakemake.input[0])  # an MD that broke a guard: flagged in every summary
for table in ("hbonds", "diffusion"):
    analysis.results[table]["md_stopped_early"] = stopped
for table, path in snakemake.output.items():
    with atomic_path(path) as partial:
        analysis.results[table].to_csv(partial, index=False)
