import hashlib
import shutil
import urllib.request
from pathlib import Path

from mlip_transfer.logs import log_to

log = log_to(snakemake.log[0])
source, url, expected = Path(snakemake.params.file), snakemake.params.url, snakemake.params.sha256
if not source.exists():
    if not url:
        raise FileNotFoundError(f"foundation_model.file {source} does not exist and foundation_model.url is not set")
    log.info("fetching %s", url)
    source.parent.mkdir(parents=True, exist_ok=True)
    urllib.request.urlretrieve(url, source)
if expected:
    with open(source, "rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != expected:
        raise ValueError(
            f"foundation_model.file {source}: sha256 {actual} differs from foundation_model.sha256 {expected}"
        )
shutil.copyfile(source, snakemake.output[0])
log.info("foundation model %s copied", source)
