"""Per-stage wall time and peak memory of a workflow run, from its Snakemake ``benchmark:`` files.

    python benchmarks/stage_times.py results/demo

Prints, per rule: number of jobs, summed and longest wall time (s) and the largest max RSS (MiB).
"""

import sys
from pathlib import Path

import pandas as pd


def stage_times(run_dir: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted((run_dir / "benchmarks").glob("*/*.tsv")):
        bench = pd.read_csv(tsv, sep="\t")
        rows.append(
            {
                "rule": tsv.parent.name,
                "job": tsv.stem,
                "s": bench["s"].iloc[-1],
                "max_rss_MiB": bench["max_rss"].iloc[-1],
            }
        )
    jobs = pd.DataFrame(rows)
    if jobs.empty:
        raise SystemExit(f"no benchmark files under {run_dir / 'benchmarks'}")
    summary = jobs.groupby("rule").agg(
        jobs=("s", "size"), total_s=("s", "sum"), longest_s=("s", "max"), max_rss_MiB=("max_rss_MiB", "max")
    )
    return summary.sort_values("total_s", ascending=False)


if __name__ == "__main__":
    table = stage_times(Path(sys.argv[1] if len(sys.argv) > 1 else "results/demo"))
    print(table.round(1).to_string())
    print(f"\nsum of job wall times: {table['total_s'].sum():.0f} s (jobs run two at a time on 2 cores)")
