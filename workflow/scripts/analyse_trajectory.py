from mlip_transfer.analysis.catalogue import AnalysisSettings
from mlip_transfer.analysis.solution import SolutionAnalysis
from mlip_transfer.dynamics.trajectory import read_chunks, stop_reason
from mlip_transfer.files import write_table
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
settings = AnalysisSettings.from_params(snakemake.params.analysis)
analysis = SolutionAnalysis.of_job(settings).run(read_chunks(snakemake.input[0]))
stopped = stop_reason(snakemake.input[0])  # an MD that broke a guard: flagged in every summary
for table in ("hbonds", "diffusion"):
    analysis.results[table]["md_stopped_early"] = stopped
for table, path in snakemake.output.items():
    write_table(path, analysis.results[table])
