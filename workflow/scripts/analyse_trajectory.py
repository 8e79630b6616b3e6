from mlip_transfer.analysis import HBondCriterion, SolutionAnalysis, read_chunks
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
settings, timing = snakemake.params.analysis, snakemake.params.timing
criterion = HBondCriterion(
    donor_acceptor_cutoff_A=settings["donor_acceptor_cutoff_A"],
    angle_cutoff_deg=settings["angle_cutoff_deg"],
    hydrogen_acceptor_cutoff_A=settings.get("hydrogen_acceptor_cutoff_A"),
    donor_hydrogen_acceptor_min_angle_deg=settings.get("donor_hydrogen_acceptor_min_angle_deg"),
)
analysis = SolutionAnalysis(
    frame_interval_ps=timing["frame_interval_ps"],
    temperature_K=snakemake.params.temperature_K,
    criterion=criterion,
    rdf_bin_width_A=settings["rdf_bin_width_A"],
    diffusion_window_ps=tuple(timing["diffusion_window_ps"]),
    n_blocks=settings["diffusion_blocks"],
    viscosity_mPa_s=snakemake.params.viscosity_mPa_s,
    persistence_ps=settings["proton_transfer_persistence_ps"],
    k_o_cutoff_A=settings["k_o_cutoff_A"],
    hbond_lifetime_max_ps=settings["hbond_lifetime_max_ps"],
    skip_frames=timing["skip_frames"],
).run(read_chunks(snakemake.input[0]))
for table, path in snakemake.output.items():
    with atomic_path(path) as partial:
        analysis.results[table].to_csv(partial, index=False)
