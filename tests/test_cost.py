"""Study cost from constructed Snakemake benchmark files, charged by one rule."""

import pandas as pd
import pytest

from mlip_transfer.models.cost import aimd_costs, model_costs, training_wall_hours, wall_hours

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def benchmark(path, *seconds):
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t1\t1\t1\t1\t0\t0\t100\t{s}\n" for s in seconds))
    return path


def test_every_model_is_charged_overhead_plus_its_share_of_frames(tmp_path):
    # two concentrations: 0.5 h relaxation and 4 h AIMD (two segments) each, a quarter of it equilibration,
    # 101 frames; c2's test AIMD is the study's test data
    benchmarks, systems = {}, {}
    for run, concentration, kind in (("c1", "c1", "training"), ("c2", "c2", "training"), ("c2.test", "c2", "test")):
        benchmarks[run] = {
            "relax": benchmark(tmp_path / f"{run}_relax.tsv", 1800.0),
            "aimd": [benchmark(tmp_path / f"{run}_0.tsv", 99.0, 7200.0), benchmark(tmp_path / f"{run}_1.tsv", 7200.0)],
        }  # a repeated job: its last run counts
        systems[run] = {"concentration": concentration, "kind": kind, "equilibration_fraction": 0.25, "frames": 101}
    aimd = aimd_costs(benchmarks, systems, mpi_ranks=32, threads_per_rank=2).set_index("run")
    cores = 64
    assert aimd.loc["c1", "aimd_core_h"] == pytest.approx(4.0 * cores)
    assert aimd.loc["c1", "overhead_core_h"] == pytest.approx((0.5 + 1.0) * cores)
    assert aimd.loc["c1", "core_h_per_frame"] == pytest.approx(3.0 * cores / 101)
    assert aimd.loc["c2.test", "kind"] == "test"
    summary = pd.DataFrame(
        {
            "model": ["foundation", "ft_c1", "ft_c1.frames20", "multi"],
            "kind": ["foundation", "single", "budget", "multi"],
            "training_concentrations": ["", "c1", "c1", "c1 c2"],
            "mean_all_meV_per_A": [90.0, 40.0, 50.0, 35.0],
            "mean_all_se_meV_per_A": [1.0, 1.0, 1.0, 1.0],
        }
    )
    frames_used = {"ft_c1": {"c1": 90}, "ft_c1.frames20": {"c1": 30}, "multi": {"c1": 45, "c2": 45}}
    training = training_wall_hours(  # two seeds of one model
        {"ft_c1": benchmark(tmp_path / "t1.tsv", 3600.0), "ft_c1.seed5": benchmark(tmp_path / "t2.tsv", 1800.0)}
    )
    costs = model_costs(summary, aimd.reset_index(), frames_used, training, training_threads=8).set_index("model")
    per_frame, overhead = 3.0 * cores / 101, 1.5 * cores
    assert costs.loc["ft_c1", "aimd_core_h"] == pytest.approx(overhead + 90 * per_frame)
    assert costs.loc["ft_c1.frames20", "aimd_core_h"] == pytest.approx(overhead + 30 * per_frame)
    # the multi model pays both overheads but only half of each production run
    assert costs.loc["multi", "aimd_core_h"] == pytest.approx(2 * overhead + 90 * per_frame)
    assert costs.loc["multi", "aimd_full_core_h"] == pytest.approx(2 * 4.5 * cores)
    assert costs.loc["foundation", "aimd_core_h"] == 0.0 and costs.loc["multi", "training_wall_h"] == 0.0
    assert costs.loc["ft_c1", "training_wall_h"] == pytest.approx(1.5)
    assert costs.loc["ft_c1", "training_core_h"] == pytest.approx(12.0)


def test_a_file_that_is_not_a_benchmark_is_named(tmp_path):
    (tmp_path / "other.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="other.tsv"):
        wall_hours([tmp_path / "other.tsv"])
