"""The run manifest: what a run was made from, so that any figure can be traced to its frames and models.

Snakemake keeps, for every output, the rule and the input files that made it (``.snakemake/metadata``).
:func:`write_manifest` joins that record with the config (and its hash), the package versions, the CP2K
version and the project's git commit, and adds the SHA-256 of every output and of each of its inputs.
"""

from __future__ import annotations

import ast
import base64
import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from .files import atomic_path, sha256, sha256_of_text
from .layout import Layout

PACKAGES = (
    "mlip-transfer",
    "ase",
    "cp2k-input-tools",
    "h5py",
    "mace-torch",
    "matplotlib",
    "numpy",
    "pandas",
    "scipy",
    "snakemake",
    "torch",
)


def sha256_file(path: str | os.PathLike) -> str:
    """:func:`~mlip_transfer.files.sha256`, once per file version: many outputs share an input."""
    path = Path(path)
    stat = path.stat()
    return _sha256_of_version(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@cache
def _sha256_of_version(path: str, mtime_ns: int, size: int) -> str:
    return sha256(path)


def recorded_outputs(metadata_dir: str | os.PathLike, prefix: str) -> dict[str, dict]:
    """``{output path: {"rule", "inputs"}}`` of Snakemake's records for outputs under ``prefix``."""
    outputs = {}
    for record in Path(metadata_dir).glob("*"):
        try:
            path = base64.b64decode(record.name.replace("@", "/")).decode()
        except ValueError:
            continue
        if not path.startswith(prefix) or not Path(path).exists():
            continue
        meta = json.loads(record.read_text())
        inputs = meta.get("input") or []
        outputs[path] = {
            "rule": meta.get("rule"),
            "inputs": ast.literal_eval(inputs) if isinstance(inputs, str) else inputs,
        }
    return outputs


def git_commit(directory: str | os.PathLike) -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_changes": bool(git("status", "--porcelain"))}


def write_manifest(
    layout: Layout,
    config: Mapping,
    *,
    cp2k_command: Sequence[str],
    imported_files: Sequence[str] = (),
    skipped: Mapping[str, str] | None = None,
    metadata_dir: str | os.PathLike = ".snakemake/metadata",
    workflow_dir: str | os.PathLike = ".",
) -> Path:
    """Write the run's manifest (:attr:`Layout.manifest`) and return its path: besides every output's
    checksums, those of the ``imported_files`` the study's AIMD was read from, and why any configured stage
    was ``skipped``. ``cp2k_command`` empty: no CP2K (none is asked for its version)."""
    from .reference.cp2k import cp2k_version

    config_json = json.dumps(config, sort_keys=True, default=str)
    try:
        cp2k = cp2k_version(cp2k_command) if cp2k_command else None
    except (OSError, subprocess.CalledProcessError):
        cp2k = None
    outputs = recorded_outputs(metadata_dir, f"{layout.root}/")
    manifest = {
        "config": json.loads(config_json),
        "config_sha256": sha256_of_text(config_json),
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PACKAGES},
        "cp2k": cp2k,
        "imported_files": {path: sha256_file(path) for path in imported_files if Path(path).exists()},
        "skipped": dict(skipped or {}),
        "git": git_commit(workflow_dir),
        "outputs": {
            path: {
                "rule": entry["rule"],
                "sha256": sha256_file(path),
                "inputs": {i: sha256_file(i) if Path(i).exists() else None for i in entry["inputs"]},
            }
            for path, entry in sorted(outputs.items())
        },
    }
    with atomic_path(layout.manifest) as partial:
        partial.write_text(json.dumps(manifest, indent=1))
    return Path(layout.manifest)


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
