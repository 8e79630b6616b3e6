from mlip_transfer.training import format_e0s, mace_train_command, resolve_device


def arguments(command):
    return dict(zip(command[1::2], command[2::2], strict=True))


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
    assert args["--ema"] == "True" and args["--max_num_epochs"] == "3"


def test_from_scratch_has_no_foundation(tmp_path):
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
    assert "--foundation_model" not in command


def test_auto_device_is_cpu_without_gpu():
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert format_e0s({19: -5.5}) == "{19: -5.5000000000}"
