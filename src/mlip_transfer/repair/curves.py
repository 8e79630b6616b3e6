"""Repair curves and what they say: each repaired model's force RMSE (meV/Å) at the target and at the base's
home against its number of new frames, with block-bootstrap intervals (:class:`~mlip_transfer.models.transfer.
ModelErrors` of the bases and the repaired models alone: the same resampled frames for every one of them, so
two selections, or a repair and the weights it started from, are compared paired), the reference method's
core-hours of the frames used, and per (base, target) the fewest frames that bring the base within
``within_percent`` of the target's own fine-tune.

The base at n = 0 is its first seed, the weights every repair starts from (not the study's seed mean)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..launch import CostLaunch
from ..models.cost import training_runs, wall_hours
from ..models.transfer import ModelErrors, mean_over, paired_difference
from ..models.uncertainty import MIN_RELIABLE_BLOCKS
from ..names import run_id
from .catalogue import MD_POOL

CURVE_COLUMNS = [
    "base", "target", "selection", "source", "n_frames", "seed", "test_concentration", "force_rmse_meV_per_A",
    "force_rmse_ci_low_meV_per_A", "force_rmse_ci_high_meV_per_A", "uncertainty_reliable", "reference_core_h",
]  # fmt: skip
BETTER_THAN = {"committee": ("even", "random"), "md_committee": ("md_even",)}


def repair_errors(
    frame_errors: Sequence[pd.DataFrame], repairs: Sequence[Mapping], tests: Sequence[str]
) -> ModelErrors:
    """The force errors of the bases (first seed) and every repaired model (its seeds' mean) on every test set,
    from their per-frame errors (``model`` and ``test_concentration`` columns), with their own blocks."""
    models = list(dict.fromkeys([*(r["base"] for r in repairs), *(r["name"] for r in repairs)]))
    return ModelErrors.from_frame_errors(frame_errors, models, tests)


def own_errors(matrix: str | os.PathLike, own_models: Mapping[str, str]) -> dict[str, tuple[str, float]]:
    """Each target's own model and its force RMSE there (meV/Å), from ``matrix/transferability.csv``."""
    table = pd.read_csv(matrix).set_index(["model", "test_concentration"])["force_rmse_meV_per_A"]
    return {target: (model, float(table.loc[(model, target)])) for target, model in own_models.items()}


def core_hours_per_frame(
    repairs: Sequence[Mapping],
    aimd_costs: str | os.PathLike,
    labelling_benchmarks: Mapping[str, str | os.PathLike],
    launch: CostLaunch,
) -> dict[str, float]:
    """The reference method's core-hours of one frame of each repair: from the AIMD, the production cost per
    frame of the target's training AIMD (``cost/aimd_core_hours.csv``; NaN for an imported one, paid for
    elsewhere); from the base's MD, its single points' wall time (``labelling_benchmarks``, by repaired model)
    × CP2K's cores (``launch``: ranks × threads, as the config says now) over its frames."""
    cores = launch.cp2k_mpi_ranks * launch.cp2k_threads_per_rank
    per_frame = training_runs(pd.read_csv(aimd_costs))["core_h_per_frame"]
    costs = {}
    for repair in repairs:
        if repair["source"] == MD_POOL:
            costs[repair["name"]] = wall_hours([labelling_benchmarks[repair["name"]]]) * cores / repair["frames"]
        else:
            costs[repair["name"]] = per_frame.get(repair["target"], np.nan)
    return costs


def selected_frames(
    repairs: Sequence[Mapping], selections: Mapping[str, str | os.PathLike], pools: Mapping[str, str | os.PathLike]
) -> pd.DataFrame:
    """Every frame each repair was given: base, target, selection, source, budget and the pool frame with its
    time (ps) and committee disagreement (meV/Å; NaN where the base has no committee). ``selections``: each
    repaired model's ``selected.csv``; ``pools``: the committee's disagreement on each pool, by
    "<base>/<target>/<source>"."""
    tables = []
    for repair in repairs:
        rows = pd.read_csv(selections[repair["name"]])
        pool = pools.get(run_id(repair["base"], repair["target"], repair["source"]))
        if pool is not None:  # an even or random pick of a pool the committee was run on
            disagreement = pd.read_csv(pool).set_index("frame")["committee_disagreement_meV_per_A"]
            rows["committee_disagreement_meV_per_A"] = rows["frame"].map(disagreement)
        keys = {k: repair[k] for k in ("base", "target", "selection", "source")}
        tables.append(rows.assign(**keys, n_frames=repair["frames"]))
    columns = ["base", "target", "selection", "source", "n_frames", "frame", "md_step", "time_ps"]
    return pd.concat(tables, ignore_index=True)[[*columns, "committee_disagreement_meV_per_A"]]


def curves(
    errors: ModelErrors,
    repairs: Sequence[Mapping],
    core_h_per_frame: Mapping[str, float],
) -> pd.DataFrame:
    """One row per (repaired model or its base at n = 0, test set). ``repairs``: the catalogue's records
    (name, base, target, selection, source, frames, seeds); ``core_h_per_frame``: the reference method's
    core-hours of one frame of each repair (its pool's; NaN where not known, e.g. imported AIMD)."""
    entries = errors.entries().set_index(["model", "test_concentration"])
    rows = []
    for repair in repairs:
        points = [(repair["base"], 0, np.nan), (repair["name"], repair["frames"], core_h_per_frame[repair["name"]])]
        for model, n, per_frame in points:
            for test in errors.tests:
                entry = entries.loc[(model, test)]
                rows.append(
                    {
                        "base": repair["base"],
                        "target": repair["target"],
                        "selection": repair["selection"],
                        "source": repair["source"],
                        "n_frames": n,
                        "seed": " ".join(map(str, repair["seeds"])) if n else "",
                        "test_concentration": test,
                        "force_rmse_meV_per_A": entry["force_rmse_meV_per_A"],
                        "force_rmse_ci_low_meV_per_A": entry["force_rmse_ci_low_meV_per_A"],
                        "force_rmse_ci_high_meV_per_A": entry["force_rmse_ci_high_meV_per_A"],
                        "uncertainty_reliable": entry["uncertainty_reliable"],
                        "reference_core_h": n * per_frame if n else 0.0,
                    }
                )
    table = pd.DataFrame(rows, columns=CURVE_COLUMNS).drop_duplicates(
        ["base", "target", "selection", "n_frames", "test_concentration"]
    )
    return table.sort_values(["base", "target", "selection", "n_frames", "test_concentration"], ignore_index=True)


def summary(
    errors: ModelErrors,
    repairs: Sequence[Mapping],
    table: pd.DataFrame,
    own: Mapping[str, tuple[str, float]],
    homes: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """Per (base, target, selection): the fewest frames that bring the base within the repair's
    ``within_percent`` of the target's own fine-tune at the target (``own``: target → that model and its
    force RMSE there, meV/Å, from the matrix; NaN where no budget did), their core-hours, a committee
    selection's paired difference at the target against each other selection at the largest budget both
    have (negative: committee better), the change at the base's home (``homes``: base → its training
    concentrations) at that budget, and a sentence."""
    rows = []
    by_pair: dict[tuple[str, str], list[Mapping]] = {}
    for repair in repairs:
        by_pair.setdefault((repair["base"], repair["target"]), []).append(repair)
    for (base, target), members in by_pair.items():
        target_column = errors.tests.index(target)
        own_model, own_rmse = own.get(target, (None, np.nan))
        within = members[0]["within_percent"]
        goal = own_rmse * (1 + within / 100)
        at_target = mean_over([target_column])
        home = [errors.tests.index(t) for t in homes.get(base, []) if t in errors.tests]
        selections = dict.fromkeys(r["selection"] for r in members)
        budgets = {s: {r["frames"]: r for r in members if r["selection"] == s} for s in selections}
        for selection in selections:
            curve = table[
                (table["base"] == base)
                & (table["target"] == target)
                & (table["selection"] == selection)
                & (table["test_concentration"] == target)
                & (table["n_frames"] > 0)
            ].sort_values("n_frames")
            enough = curve[curve["force_rmse_meV_per_A"] <= goal]
            largest = budgets[selection][max(budgets[selection])]
            row = {
                "base": base,
                "target": target,
                "selection": selection,
                "source": largest["source"],
                "own_model": own_model,
                "own_force_rmse_meV_per_A": own_rmse,
                "base_force_rmse_meV_per_A": errors.point[errors.index(base), target_column],
                "within_percent": within,
                "frames_needed": enough["n_frames"].iloc[0] if len(enough) else np.nan,
                "frames_needed_core_h": enough["reference_core_h"].iloc[0] if len(enough) else np.nan,
                "largest_n_frames": largest["frames"],
                "largest_force_rmse_meV_per_A": errors.point[errors.index(largest["name"]), target_column],
            }
            if home:
                change = paired_difference(errors, mean_over(home), largest["name"], base, home)
                row.update(
                    home_change_meV_per_A=change["estimate"],
                    home_change_ci_low_meV_per_A=change["ci_low"],
                    home_change_ci_high_meV_per_A=change["ci_high"],
                )
            for rival in BETTER_THAN.get(selection, ()):
                common = sorted(set(budgets[selection]) & set(budgets.get(rival, {})))
                if common:
                    n = common[-1]
                    gap = paired_difference(
                        errors, at_target, budgets[selection][n]["name"], budgets[rival][n]["name"], [target_column]
                    )
                    row.update(
                        {
                            f"minus_{rival}_n_frames": n,
                            f"minus_{rival}_meV_per_A": gap["estimate"],
                            f"minus_{rival}_ci_low_meV_per_A": gap["ci_low"],
                            f"minus_{rival}_ci_high_meV_per_A": gap["ci_high"],
                        }
                    )
            row["statement"] = statement(row, reliable=bool(errors.n_blocks[target_column] >= MIN_RELIABLE_BLOCKS))
            rows.append(row)
    return pd.DataFrame(rows)


def summary_statements(path: str | os.PathLike) -> list[str]:
    """The sentences of a written ``repair/summary.csv`` (none where there is none)."""
    return list(pd.read_csv(path)["statement"]) if os.path.isfile(path) else []


def statement(row: Mapping, reliable: bool) -> str:
    """One sentence of the summary: frames needed, their cost, selection against its rivals, change at home."""
    head = f"{row['base']} at {row['target']} by {row['selection']} selection: "
    if np.isfinite(row["frames_needed"]):
        cost = row["frames_needed_core_h"]
        head += (
            f"{int(row['frames_needed'])} frames bring it within {row['within_percent']:g} % of "
            f"{row['own_model']} ({row['own_force_rmse_meV_per_A']:.1f} meV/Å)"
            + (f", {cost:.3g} core-hours of the reference method" if np.isfinite(cost) else "")
        )
    else:
        head += (
            f"no budget up to {int(row['largest_n_frames'])} frames brings it within {row['within_percent']:g} % "
            f"of {row['own_model']} ({row['largest_force_rmse_meV_per_A']:.1f} against "
            f"{row['own_force_rmse_meV_per_A']:.1f} meV/Å)"
        )
    for rival in BETTER_THAN.get(row["selection"], ()):
        if f"minus_{rival}_meV_per_A" in row:
            low, high = row[f"minus_{rival}_ci_low_meV_per_A"], row[f"minus_{rival}_ci_high_meV_per_A"]
            if not np.isfinite(low):
                verdict = "cannot be judged (no interval)"
            elif high < 0:
                verdict = "beats it"
            elif low > 0:
                verdict = "is worse"
            else:
                verdict = "is not distinguishable from it"
            head += (
                f"; against {rival} at {int(row[f'minus_{rival}_n_frames'])} frames {row['selection']} {verdict} "
                f"({row[f'minus_{rival}_meV_per_A']:+.1f} meV/Å, 95 % interval {low:+.1f} to {high:+.1f})"
            )
    if "home_change_meV_per_A" in row:
        head += (
            f"; at home the error changes by {row['home_change_meV_per_A']:+.1f} meV/Å "
            f"({row['home_change_ci_low_meV_per_A']:+.1f} to {row['home_change_ci_high_meV_per_A']:+.1f})"
        )
    return head + ("." if reliable else ". (Too few independent blocks of test frames: not a reliable interval.)")
