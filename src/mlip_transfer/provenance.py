"""The run manifest: what a run was made from, so that any figure can be traced to its frames and models.

Snakemake keeps, for every output, the rule and the input files that made it (``.snakemake/metadata``).
:func:`write_manifest` joins that record with the config (and its hash), the package versions, the CP2K
version and the project's git commit, and adds the SHA-256 of every output and of each of its inputs.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

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


def sha256_file(path: str | os.PathLike, _cache: dict = {}) -> str:  # noqa: B006 — one cache per process
    path = Path(path)
    key = (str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)
    if key not in _cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _cache[key] = digest.hexdigest()
    return _cache[key]


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
    run_dir: str | os.PathLike,
    config: Mapping,
    *,
    cp2k_command: Sequence[str],
    metadata_dir: str | os.PathLike = ".snakemake/metadata",
    workflow_dir: str | os.PathLike = ".",
) -> Path:
    """Write ``<run_dir>/manifest.json`` and return its path."""
    from .reference.cp2k import cp2k_version

    config_json = json.dumps(config, sort_keys=True, default=str)
    try:
        cp2k = cp2k_version(cp2k_command)
    except (OSError, subprocess.CalledProcessError):
        cp2k = None
    outputs = recorded_outputs(metadata_dir, f"{Path(run_dir).as_posix()}/")
    manifest = {
        "config": json.loads(config_json),
        "config_sha256": hashlib.sha256(config_json.encode()).hexdigest(),
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PACKAGES},
        "cp2k": cp2k,
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
    destination = Path(run_dir) / "manifest.json"
    temporary = destination.with_suffix(".json.partial")
    temporary.write_text(json.dumps(manifest, indent=1))
    temporary.replace(destination)
    return destination


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
