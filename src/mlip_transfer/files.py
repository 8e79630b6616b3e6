"""The file conventions every stage shares: a half-written file never passes as a result (one partial-file
scheme), frames are extended XYZ and tables CSV, and a file's identity is its SHA-256."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.io import read, write


def partial_path(path: str | os.PathLike) -> Path:
    """Where ``path`` is written until it is whole: ``.<stem>.partial<suffix>`` beside it (same suffix, so
    formats are still recognised; hidden, so no glob of results picks it up)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.partial{path.suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield :func:`partial_path` of ``path``; it is renamed to ``path`` only if the block finishes, and
    removed otherwise."""
    temporary = partial_path(path)
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def copy_file(source: str | os.PathLike, destination: str | os.PathLike) -> None:
    """Copy a file, atomically."""
    with atomic_path(destination) as partial:
        shutil.copyfile(source, partial)


def read_frames(path: str | os.PathLike) -> list[Atoms]:
    """Every frame of an extended-XYZ (or any ASE-readable) file."""
    return read(path, index=":")


def write_frames(path: str | os.PathLike, frames: Atoms | Iterable[Atoms]) -> int:
    """Frames (energies and forces in their ``info``/``arrays`` keys) as extended XYZ, atomically, one at a
    time (a generator of frames is never held whole); returns how many."""
    count = 0
    with atomic_path(path) as partial, open(partial, "w") as handle:
        for atoms in [frames] if isinstance(frames, Atoms) else frames:
            write(handle, atoms, format="extxyz")
            count += 1
    return count


def write_table(path: str | os.PathLike, table: pd.DataFrame, index: bool = False) -> None:
    """A table as CSV, atomically."""
    with atomic_path(path) as partial:
        table.to_csv(partial, index=index)


def write_arrays(path: str | os.PathLike, arrays: Mapping[str, object]) -> None:
    """Named arrays as a compressed NumPy archive (``.npz``), atomically."""
    with atomic_path(path) as partial, open(partial, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, hex."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_of_text(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, hex (a rendered input, a config)."""
    return hashlib.sha256(text.encode()).hexdigest()
