from pathlib import Path

import pandas as pd

from mlip_transfer import plotting
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
runs, molarities = snakemake.params.runs, snakemake.params.molarities
folder = Path(snakemake.output.figures[0]).parent


def gather(table):
    frames = []
    for model, conc in runs:
        path = next(f for f in snakemake.input if f.endswith(f"/{model}/{conc}/{table}.csv"))
        frames.append(pd.read_csv(path).assign(model=model, concentration=conc, molarity_mol_per_L=molarities[conc]))
    return frames


hbonds = pd.concat(gather("hbonds"), ignore_index=True)
diffusion = pd.concat(gather("diffusion"), ignore_index=True)
hbonds.to_csv(snakemake.output.hbonds, index=False)
diffusion.to_csv(snakemake.output.diffusion, index=False)
plotting.versus_concentration(
    hbonds, "hbonds_accepted_per_OH-", "model", "H-bonds accepted per OH⁻", folder / "hbonds_per_OH"
)
plotting.versus_concentration(
    hbonds, "hbonds_OH-->OH-_per_OH-", "model", "OH⁻→OH⁻ H-bonds per OH⁻", folder / "OH_OH_hbonds"
)
plotting.diffusion_panels(diffusion, folder / "diffusion")
rdfs = {f"{m} {c}": df for (m, c), df in zip(runs, gather("rdf"), strict=True)}
plotting.rdf_panels(rdfs, folder / "rdf")
