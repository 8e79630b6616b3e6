import pytest

from mlip_transfer.models import training
from mlip_transfer.models.training import TrainingError, check_training_log, mace_train_command


def arguments(command):
    """``{--flag: value}``; switches without a value map to True."""
    parsed, i = {}, 1
    while i < len(command):
        if i + 1 < len(command) and not command[i + 1].startswith("--"):
            parsed[command[i]], i = command[i + 1], i + 2
        else:
            parsed[command[i]], i = True, i + 1
    return parsed


def test_fine_tune_command_isolates_work_dir_and_names_foundation(tmp_path):
    command = mace_train_command(
        name="ft_x",
        train_file="t.xyz",
        valid_file="v.xyz",
        work_dir=tmp_path / "w",
        e0s_eV={8: -100.0, 1: -13.0},
        hyperparameters={"max_num_epochs": 3, "ema": True},
        device="cpu",
        default_dtype="float64",
        seed=1,
        foundation_model="f.model",
    )
    args = arguments(command)
    assert command[0].endswith("mace_run_train")
    for key in ("--work_dir", "--model_dir", "--log_dir", "--checkpoints_dir", "--results_dir"):
        assert args[key].startswith(str(tmp_path / "w"))
    assert args["--foundation_model"] == "f.model" and args["--multiheads_finetuning"] == "False"
    assert args["--E0s"] == "{1: -13.0000000000, 8: -100.0000000000}"
    assert args["--energy_key"] == "REF_energy" and args["--forces_key"] == "REF_forces"
    assert args["--ema"] is True and args["--max_num_epochs"] == "3"  # --ema is a switch without value


def test_from_scratch_has_no_foundation_and_always_resumes(tmp_path):
    command = mace_train_command(
        name="f",
        train_file="t",
        valid_file="v",
        work_dir=tmp_path,
        e0s_eV={1: -1.0},
        hyperparameters={},
        device="cpu",
        default_dtype="float32",
        seed=0,
    )
    assert "--foundation_model" not in command and "--enable_cueq" not in command
    assert arguments(command)["--restart_latest"] is True  # a killed run continues from its checkpoint


def test_cuequivariance_is_asked_for_only_when_configured(tmp_path):
    command = mace_train_command(
        name="f", train_file="t", valid_file="v", work_dir=tmp_path, e0s_eV={1: -1.0}, hyperparameters={},
        device="cuda", default_dtype="float32", seed=0, enable_cueq=True,
    )  # fmt: skip
    args = arguments(command)
    assert args["--enable_cueq"] == "True" and args["--device"] == "cuda" and args["--default_dtype"] == "float32"


def test_diverged_training_fails_with_its_epoch():
    healthy = "INFO: Epoch 0: head: Default, loss=0.3, RMSE_E_per_atom= 3.1 meV, RMSE_F= 140.2 meV / A\n"
    check_training_log(healthy)
    with pytest.raises(TrainingError, match="training diverged: the loss became NaN at epoch 3"):
        check_training_log(healthy + "INFO: Epoch 3: head: Default, loss=nan, RMSE_E_per_atom= nan meV\n")


def test_multihead_fine_tuning_replays_a_local_file_or_is_refused(tmp_path):
    common = dict(
        name="ft_x", train_file="t", valid_file="v", work_dir=tmp_path, e0s_eV={1: -1.0}, device="cpu",
        default_dtype="float32", seed=0, foundation_model="f.model",
        hyperparameters={"multiheads_finetuning": True, "lr": 0.01},
    )  # fmt: skip
    args = arguments(mace_train_command(**common, replay_file="mp_subset.xyz"))
    assert args["--multiheads_finetuning"] == "True" and args["--pt_train_file"] == "mp_subset.xyz"
    with pytest.raises(TrainingError, match="multihead fine-tuning needs the foundation model's training data"):
        mace_train_command(**common)


def test_a_job_given_a_gpu_its_torch_cannot_use_fails_rather_than_running_on_the_cpu(monkeypatch):
    import torch

    from mlip_transfer.models.mace import DeviceError, resolve_device

    if torch.cuda.is_available():
        pytest.skip("a GPU is usable here")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"  # a laptop: the CPU, silently
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # what SLURM sets for a job given a GPU
    with pytest.raises(DeviceError, match="CUDA_VISIBLE_DEVICES='0'.*install a CUDA build of torch"):
        resolve_device("auto")


def test_a_rerun_on_changed_training_frames_under_the_same_path_starts_afresh(tmp_path):
    frames = tmp_path / "train.extxyz"
    frames.write_text("frames of the first selection")
    command = ["mace_run_train", "--train_file", str(frames), "--valid_file", str(frames), "--seed", "1"]
    work = tmp_path / "work"
    training.prepare_work_dir(work, command)
    (work / "checkpoints").mkdir()
    (work / "checkpoints" / "m_epoch-1.pt").write_text("trained on the first selection")
    training.prepare_work_dir(work, command)  # killed and rerun on the same frames: resumed
    assert (work / "checkpoints" / "m_epoch-1.pt").exists()
    frames.write_text("frames of another selection")  # its inputs changed: Snakemake reruns it, same paths
    training.prepare_work_dir(work, command)
    assert not (work / "checkpoints").exists() and (work / "command.json").exists()
    (work / "checkpoints").mkdir()
    (work / training.FINISHED).touch()  # the run ended: rerunning its job trains afresh, not from a checkpoint
    training.prepare_work_dir(work, command)
    assert not (work / "checkpoints").exists()
