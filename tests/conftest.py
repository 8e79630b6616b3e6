import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

needs_cp2k = pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K (cp2k.psmp) is not installed")


def snakemake_executable() -> str:
    local = BIN / "snakemake"
    return str(local) if local.exists() else "snakemake"
