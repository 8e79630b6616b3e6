import hashlib
import shutil

from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
source, expected = snakemake.input[0], snakemake.params.sha256
if expected:
    with open(source, "rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != expected:
        raise ValueError(f"foundation_model.file {source}: sha256 {actual} differs from foundation_model.sha256 {expected}")
shutil.copyfile(source, snakemake.output[0])
log.info("foundation model %s copied", source)
