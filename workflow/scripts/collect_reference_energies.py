import json
from pathlib import Path

from ase.data import atomic_numbers

from mlip_transfer.files import atomic_path
from mlip_transfer.logs import log_to

log_to(snakemake.log[0])
elements = snakemake.params.elements
e0s = {atomic_numbers[el]: float(Path(f).read_text()) for el, f in zip(elements, snakemake.input, strict=True)}
with atomic_path(snakemake.output[0]) as path:
    path.write_text(json.dumps(e0s, indent=1) + "\n")
