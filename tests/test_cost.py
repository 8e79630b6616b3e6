"""Study cost from constructed Snakemake benchmark files."""

import pandas as pd
import pytest

from mlip_transfer.cost import aimd_core_hours, frame_budget_costs, model_costs, training_wall_hours, wall_hours

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def benchmark(path, *seconds):
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t1\t1\t1\t1\t0\t0\t100\t{s}\n" for s in seconds))
    return path


def test_costs_sum_the_jobs_wall_times_times_their_cores(tmp_path):
    segments = {
        "c1": [benchmark(tmp_path / "c1_0.tsv", 1800.0), benchmark(tmp_path / "c1_1.tsv", 3600.0)],
        "c2": [benchmark(tmp_path / "c2_0.tsv", 99.0, 7200.0)],  # repeated: the last run counts
    }
    aimd = aimd_core_hours(segments, mpi_ranks=32, threads_per_rank=2).set_index("system")
    assert aimd.loc["c1", "aimd_wall_h"] == pytest.approx(1.5)
    assert aimd.loc["c1", "aimd_core_h"] == pytest.approx(1.5 * 64)
    assert aimd.loc["c2", "aimd_core_h"] == pytest.approx(2.0 * 64)
    summary = pd.DataFrame(
        {
            "model": ["foundation", "ft_c1", "multi"],
            "kind": ["foundation", "single", "multi"],
            "training_concentrations": ["", "c1", "c1 c2"],
            "mean_all_meV_per_A": [90.0, 40.0, 35.0],
            "mean_all_se_meV_per_A": [1.0, 1.0, 1.0],
        }
    )
    training = training_wall_hours(  # two seeds of one model
        {"ft_c1": benchmark(tmp_path / "t1.tsv", 3600.0), "ft_c1.seed5": benchmark(tmp_path / "t2.tsv", 1800.0)}
    )
    costs = model_costs(summary, aimd.reset_index(), training, training_threads=8).set_index("model")
    assert costs.loc["multi", "aimd_core_h"] == pytest.approx((1.5 + 2.0) * 64)  # both of its concentrations
    assert costs.loc["foundation", "aimd_core_h"] == 0.0 and costs.loc["multi", "training_wall_h"] == 0.0
    assert costs.loc["ft_c1", "training_wall_h"] == pytest.approx(1.5)
    assert costs.loc["ft_c1", "training_core_h"] == pytest.approx(12.0)


def test_a_file_that_is_not_a_benchmark_is_named(tmp_path):
    (tmp_path / "other.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="other.tsv"):
        wall_hours([tmp_path / "other.tsv"])


def test_a_frame_budget_costs_its_share_of_the_aimd_and_its_own_training():
    aimd = pd.DataFrame({"system": ["c1"], "aimd_core_h": [100.0]})
    curves = pd.DataFrame(
        {
            "model": ["ft_c1"] * 4,
            "test_concentration": ["c1", "c2", "c1", "c2"],
            "training_frames": [10, 10, 40, 40],  # 40: the fine-tune on all of them
            "force_rmse_meV_per_A": [50.0, 70.0, 30.0, 60.0],
            "force_rmse_se_meV_per_A": [3.0, 4.0, 1.0, 1.0],
        }
    )
    rows = frame_budget_costs(curves, aimd, {"ft_c1.frames10": 0.5}, training_threads=4).set_index("model")
    assert list(rows.index) == ["ft_c1.frames10"] and rows.loc["ft_c1.frames10", "kind"] == "budget"
    assert rows.loc["ft_c1.frames10", "aimd_core_h"] == pytest.approx(25.0)  # a quarter of the frames
    assert rows.loc["ft_c1.frames10", "mean_all_meV_per_A"] == pytest.approx(60.0)
    assert rows.loc["ft_c1.frames10", "mean_all_se_meV_per_A"] == pytest.approx(2.5)  # sqrt(9 + 16) / 2
    assert rows.loc["ft_c1.frames10", "training_core_h"] == pytest.approx(2.0)
