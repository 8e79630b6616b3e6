import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.analysis import replicas
from mlip_transfer.chemistry import Hydroxide
from mlip_transfer.files import write_table
from mlip_transfer.layout import group
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
params, output = snakemake.params, snakemake.output
hydroxide = Hydroxide(params.cation)


def gather(table):
    """Every analysed run's table, labelled with its run."""
    paths = group(snakemake.input, table)
    return replicas.runs_table({run: pd.read_csv(path) for run, path in paths.items()}, params.molarities)


hbond_runs, diffusion_runs, stability = gather("hbonds"), gather("diffusion"), gather("stability")
# any replica left the AIMD's envelope (a study without MD: none)
left = stability.groupby(["model", "concentration"])["left_aimd_range"].any() if len(stability) else {}
for runs in (hbond_runs, diffusion_runs):
    runs["left_aimd_range"] = [
        left.get((m, c), False) for m, c in zip(runs["model"], runs["concentration"], strict=True)
    ]
hbonds = replicas.summarise(hbond_runs, replicas.HBOND_ERRORS, ["model", "concentration"])
diffusion = replicas.summarise(diffusion_runs, replicas.DIFFUSION_ERRORS, ["model", "concentration", "species"])
diffusion["experimental_conductivity_S_per_m"] = [  # NaN outside the correlation's fitted range
    hydroxide.conductivity_S_per_m(params.molarities[c], params.temperatures_K[c]) for c in diffusion["concentration"]
]
tables = {
    "hbond_table": hbonds,
    "diffusion_table": diffusion,
    "hbond_runs": hbond_runs,
    "diffusion_runs": diffusion_runs,
    "stability": stability,
}
for name, table in tables.items():
    write_table(output[name], table)
for value, label, name in (
    ("hbonds_accepted_per_OH-", "H bonds accepted per OH⁻", "hbonds_per_OH"),
    ("hbonds_OH-->OH-_per_OH-", "OH⁻→OH⁻ H bonds per OH⁻", "OH_OH_hbonds"),
):
    plotting.versus_concentration(hbonds, value, "model", label, output[name], hydroxide, error=f"{value}_error")
plotting.versus_concentration(
    hbonds,
    "proton_transfers_per_OH-_per_ps",
    "model",
    "proton transfers per OH⁻ per ps",
    output.proton_transfer,
    hydroxide,
    error="proton_transfers_per_OH-_per_ps_replica_se",
)
plotting.diffusion_panels(diffusion, output.diffusion, hydroxide)
plotting.conductivity(diffusion, output.conductivity, hydroxide)
rdf_runs = gather("rdf")  # g(r) averaged over a run's replicas
rdfs = {
    f"{m} {c}": df.groupby("r_A").mean(numeric_only=True).reset_index()
    for (m, c), df in rdf_runs.groupby(["model", "concentration"], sort=False)
}
plotting.rdf_panels(rdfs, output.rdf)
