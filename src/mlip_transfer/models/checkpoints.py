"""MACE checkpoints that survive a kill at any moment, and ``mace_run_train`` run with them.

mace-torch 0.3.16 deletes its previous checkpoint and then ``torch.save``-s the new one straight to its final
name; a walltime kill during that write leaves a cut file as the only checkpoint, and ``--restart_latest``
swallows the load error and trains from epoch 0 (upstream ACEsuit/mace#509). Here a checkpoint is written
whole beside its final name and renamed into place before the previous one is deleted, and before a rerun
the newest checkpoint that does not load (one left by an older writer, a copy cut in transfer) is set aside
so that mace resumes from the one before it.

``python -m mlip_transfer.models.checkpoints <mace_run_train arguments>`` is ``mace_run_train`` with this
writer.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import torch

from ..files import atomic_path

# mace's own checkpoint names: <name>_run-<seed>_epoch-<n>.pt, and _swa before .pt in its second stage
CHECKPOINT_NAME = re.compile(r"^.+_epoch-(?P<epoch>\d+)(_swa)?\.pt$")
SET_ASIDE_SUFFIX = ".unreadable"

log = logging.getLogger(__name__)


def save_whole(io, checkpoint: dict, epochs: int, keep_last: bool = False) -> None:
    """``mace.tools.checkpoint.CheckpointIO.save`` that never leaves a cut file under a checkpoint's name and
    keeps the previous checkpoint until the new one is complete (and on disk, should the node go down)."""
    path = Path(io.directory) / io._get_checkpoint_filename(epochs, io.swa_start)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial, open(partial, "wb") as handle:
        torch.save(checkpoint, handle)
        handle.flush()
        os.fsync(handle.fileno())
    if not io.keep and io.old_path and not keep_last and Path(io.old_path) != path:
        Path(io.old_path).unlink(missing_ok=True)
    io.old_path = str(path)


def checkpoint_epoch(path: str | os.PathLike) -> int | None:
    """The epoch in a mace checkpoint's file name, None for any other file."""
    match = CHECKPOINT_NAME.match(Path(path).name)
    return int(match["epoch"]) if match else None


def set_aside_unreadable(directory: str | os.PathLike) -> list[Path]:
    """Rename the newest checkpoints in ``directory`` that ``torch.load`` (as mace calls it) cannot read to
    ``<name>.unreadable``, newest first, until one loads; return what was set aside (each is logged)."""
    checkpoints = [p for p in Path(directory).glob("*.pt") if checkpoint_epoch(p) is not None]
    set_aside = []
    for path in sorted(checkpoints, key=checkpoint_epoch, reverse=True):
        try:
            torch.load(path, map_location="cpu", weights_only=False)  # as mace loads its own checkpoints
            break
        except Exception as err:  # a cut zip archive raises RuntimeError, a cut pickle EOFError or others
            aside = path.with_name(path.name + SET_ASIDE_SUFFIX)
            path.replace(aside)
            log.warning("checkpoint %s does not load (%s: %s); set aside as %s", path, type(err).__name__, err, aside)
            set_aside.append(aside)
    return set_aside


def main() -> None:
    from mace.cli import run_train
    from mace.tools import checkpoint

    checkpoint.CheckpointIO.save = save_whole
    run_train.main()


if __name__ == "__main__":
    main()
