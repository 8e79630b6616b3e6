"""Kill and resume, for real: each long step is killed with SIGKILL part-way and run again.

Checked: the rerun continues from the last checkpoint (not from zero), frames written before the kill
are kept exactly once, and the final output is complete.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from ase.io import write

from conftest import labelled_frames, needs_cp2k, run_md
from mlip_transfer.dynamics import trajectory
from mlip_transfer.files import partial_path
from mlip_transfer.models import training
from mlip_transfer.models.checkpoints import checkpoint_epoch, save_whole, set_aside_unreadable
from mlip_transfer.reference.box import Composition, build_box, cubic_box_length_A


def start(code: str, cwd) -> subprocess.Popen:
    """A Python child in its own process group, so that SIGKILL reaches what it started (CP2K, mace)."""
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd, start_new_session=True)


def kill_when(proc: subprocess.Popen, ready, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"the step finished (exit {proc.returncode}) before it could be killed")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("the step never reached its kill point")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@needs_cp2k
def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    write(tmp_path / "train.xyz", labelled_frames(12, 0), format="extxyz")
    write(tmp_path / "valid.xyz", labelled_frames(4, 100), format="extxyz")
    command = training.mace_train_command(
        name="m",
        train_file=tmp_path / "train.xyz",
        valid_file=tmp_path / "valid.xyz",
        work_dir=tmp_path / "work",
        e0s_eV={1: -1.0, 8: -2.0, 19: -0.5},
        device="cpu",
        default_dtype="float64",
        seed=1,
        hyperparameters={
            "model": "MACE",
            "num_channels": 4,
            "max_L": 0,
            "r_max": 3.0,
            "num_interactions": 1,
            "correlation": 1,
            "max_num_epochs": 12,
            "batch_size": 4,
            "lr": 0.01,
            "patience": 1000,
        },
    )
    code = (
        "import json; from mlip_transfer.models import training; "
        f"training.run_training(json.loads({json.dumps(json.dumps(command))}), threads=1, "
        f"log_file='first.log', work_dir={str(tmp_path / 'work')!r})"
    )
    proc = start(code, tmp_path)
    checkpoints = tmp_path / "work" / "checkpoints"
    kill_when(
        proc,
        lambda: (
            checkpoints.exists()
            and any(checkpoints.glob("*.pt"))
            and "Epoch 3:" in (tmp_path / "first.log").read_text()
        ),
    )
    assert not (tmp_path / "work" / "m.model").exists()
    (whole,) = checkpoints.glob("*.pt")  # written beside its name, then renamed: never cut by the kill
    # the next epoch's checkpoint cut mid-write, as mace's own writer leaves it when killed then
    epoch = checkpoint_epoch(whole)
    cut = whole.with_name(whole.name.replace(f"_epoch-{epoch}.pt", f"_epoch-{epoch + 1}.pt"))
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    training.run_training(command, threads=1, log_file=tmp_path / "second.log", work_dir=tmp_path / "work")
    log = (tmp_path / "second.log").read_text()
    assert f"set aside: {cut}.unreadable" in log and f"Loading checkpoint: {whole}" in log
    assert "Epoch 0:" not in log and f"Epoch {epoch + 1}:" in log  # continues after the last whole checkpoint
    assert training.trained_model_path(tmp_path / "work", "m").exists()


def test_a_checkpoint_write_that_fails_part_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from mace.tools.checkpoint import CheckpointIO

    io = CheckpointIO(str(tmp_path), "m_run-1")
    save_whole(io, {"weights": torch.ones(3)}, epochs=1)

    def killed_mid_write(obj, handle):
        handle.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        save_whole(io, {"weights": torch.zeros(3)}, epochs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m_run-1_epoch-1.pt"]
    assert set_aside_unreadable(tmp_path) == []  # it loads
    _, epoch = io.load_latest()
    assert epoch == 1


def test_killed_md_resumes_and_keeps_its_frames_once(tmp_path):
    box = build_box(Composition(1, 8, "K"), cubic_box_length_A(Composition(1, 8, "K")), seed=1)
    write(tmp_path / "start.extxyz", box)
    code = textwrap.dedent(
        """
        import time
        from ase.calculators.lj import LennardJones
        from ase.io import read
        from mlip_transfer.dynamics import ase_engine

        class Slow(LennardJones):
            def calculate(self, *args, **kwargs):
                time.sleep(0.02)
                super().calculate(*args, **kwargs)

        run = ase_engine.RunSettings(timestep_fs=0.5, steps=400, write_interval=10, seed=4,
                                     thermostat={"type": "bussi", "time_constant_fs": 20.0},
                                     limits=ase_engine.SanityLimits(2000.0, 0.6))
        ase_engine.run_nvt(read("start.extxyz"), Slow(sigma=1.0, epsilon=0.001, rc=3.0), "md.h5", temperature_K=300,
                           run=run)
        """
    )
    proc = start(code, tmp_path)
    partial = partial_path(tmp_path / "md.h5")

    def some_frames():  # read beside the writer, as a monitoring tool would
        return trajectory.frame_count(partial) >= 8

    kill_when(proc, some_frames)
    before = trajectory.read(partial).positions_A
    assert not (tmp_path / "md.h5").exists()

    run_md(box, tmp_path / "md.h5", steps=400, write_interval=10, seed=4)
    after = trajectory.read(tmp_path / "md.h5")
    assert after.steps.tolist() == list(range(0, 401, 10))
    after = after.positions_A
    assert np.array_equal(after[: len(before)], before)
