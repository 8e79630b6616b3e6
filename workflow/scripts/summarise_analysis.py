import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.chemistry import Hydroxide
from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
runs, molarities, temperatures = snakemake.params.runs, snakemake.params.molarities, snakemake.params.temperatures_K
hydroxide = Hydroxide(snakemake.params.cation)
output = snakemake.output


def gather(table):
    """One table per analysed run (inputs in the order of ``runs``), labelled with its source and concentration."""
    return [
        pd.read_csv(path).assign(model=source, concentration=conc, molarity_mol_per_L=molarities[conc])
        for (source, conc), path in zip(runs, snakemake.input[table], strict=True)
    ]


hbonds = pd.concat(gather("hbonds"), ignore_index=True)
diffusion = pd.concat(gather("diffusion"), ignore_index=True)
diffusion["experimental_conductivity_S_per_m"] = [  # NaN outside the correlation's fitted range
    hydroxide.conductivity_S_per_m(molarities[c], temperatures[c]) for c in diffusion["concentration"]
]
for table, name in ((hbonds, "hbond_table"), (diffusion, "diffusion_table")):
    with atomic_path(output[name]) as path:
        table.to_csv(path, index=False)
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
)
plotting.diffusion_panels(diffusion, output.diffusion, hydroxide)
plotting.conductivity(diffusion, output.conductivity, hydroxide)
rdfs = {f"{m} {c}": df for (m, c), df in zip(runs, gather("rdf"), strict=True)}
plotting.rdf_panels(rdfs, output.rdf)
