"""The study's answer: every model's force error on every concentration's test set, with uncertainties a
referee can check, and the views built on it — each test set relative to its own fine-tune, error against
the concentration distance, a per-model summary and which concentration to train on.

Uncertainty (:class:`ModelErrors`) has two parts:

- the **test frames**: frames of one trajectory are correlated in time, so they are resampled in blocks
  (:mod:`.uncertainty`); every model is resampled with the *same* blocks of a test set, so two models
  compared on the same frames are compared paired;
- the **training seeds**: a model's fine-tunes with other seeds (its committee) differ; a seed is one
  model on every test set, so its deviation from the seed mean is drawn as one vector over test sets.

Any statistic of the matrix (a mean over test sets, a ratio to the best model per test set, the
difference of two models) is evaluated on both sets of replicates; its standard error combines the two
parts and its 95 % interval uses Student's t with Welch–Satterthwaite degrees of freedom (few blocks or
few seeds: a wider interval). Force errors in meV/Å, molarities in mol/L.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import names
from ..files import write_arrays
from ..names import FOUNDATION, without_seed
from . import uncertainty
from .evaluation import force_rmse

N_RESAMPLES = 2000
DECISIVE = "ratio_to_best"  # the statistic the recommendation ranks single-concentration models by


@dataclass
class ModelErrors:
    """Force RMSE (meV/Å) of every model on every test set: the seed mean (``point``, models × tests), its
    frame-bootstrap replicates as deviations (``frame_deviations``, resamples × models × tests, shared
    blocks per test set, corrected for the block bias) and seed-noise replicates (``seed_deviations``)."""

    models: list[str]
    tests: list[str]
    n_seeds: np.ndarray
    point: np.ndarray
    frame_deviations: np.ndarray
    seed_deviations: np.ndarray
    seed_sd: np.ndarray  # standard deviation over seeds (NaN for one seed), models × tests
    tau_frames: np.ndarray  # per test set: integrated autocorrelation time of the per-frame squared error
    block_length: np.ndarray
    n_blocks: np.ndarray

    @classmethod
    def from_frame_errors(
        cls,
        frame_errors: Sequence[pd.DataFrame],
        models: Sequence[str],
        tests: Sequence[str],
        *,
        n_resamples: int = N_RESAMPLES,
        seed: int = 0,
        block_models: Sequence[str] | None = None,
    ) -> ModelErrors:
        """From the per-frame errors (:func:`mlip_transfer.models.evaluation.frame_errors` with ``model`` and
        ``test_concentration`` columns) of every model and committee member ("<model>.seed<n>") on every test
        set. Every model must have been evaluated on every test set, every member on the same frames. The
        blocks of each test set come from the errors of ``block_models`` (all models by default), so that models
        added to a study (repairs) leave the others' intervals as they were."""
        runs: dict[tuple[str, str], list[pd.DataFrame]] = {}
        for table in frame_errors:
            member, test = table["model"].iloc[0], table["test_concentration"].iloc[0]
            runs.setdefault((without_seed(member), test), []).append(table)
        missing = [(m, t) for m in models for t in tests if (m, t) not in runs]
        if missing:
            raise ValueError(f"no per-frame errors of {missing[:3]} (of {len(missing)} model × test set pairs)")
        rng = np.random.default_rng(seed)
        shape = (len(models), len(tests))
        point, seed_sd, n_seeds = np.empty(shape), np.full(shape, np.nan), np.zeros(len(models), int)
        frame_dev = np.empty((n_resamples, *shape))
        seed_dev = np.zeros((n_resamples, *shape))
        tau, block, blocks = (np.empty(len(tests)) for _ in range(3))
        per_seed = {}
        for j, test in enumerate(tests):
            tables = [table for m in models for table in runs[(m, test)]]
            steps = tables[0]["md_step"].to_numpy()
            for table in tables:
                if not np.array_equal(table["md_step"].to_numpy(), steps):
                    raise ValueError(
                        f"test set {test}: {table['model'].iloc[0]} was evaluated on other frames than "
                        f"{tables[0]['model'].iloc[0]}; paired statistics need the same frames"
                    )
            setting = [t for t in tables if block_models is None or without_seed(t["model"].iloc[0]) in block_models]
            correlation = uncertainty.CorrelationTime.of([t["force_squared_error_meV2_per_A2"] for t in setting])
            tau[j], block[j], blocks[j] = correlation.tau_frames, correlation.block_length, correlation.n_blocks
            index = correlation.resample(n_resamples, rng)
            for i, model in enumerate(models):
                members = runs[(model, test)]
                rmse = np.array([force_rmse(t) for t in members])
                replicates = np.mean([force_rmse(t, index) for t in members], axis=0)
                point[i, j] = rmse.mean()
                frame_dev[:, i, j] = np.sqrt(correlation.variance_factor) * (replicates - replicates.mean())
                n_seeds[i] = len(members)
                per_seed[(i, j)] = rmse
        for i in range(len(models)):
            n = n_seeds[i]
            if n < 2:
                continue
            # one draw of N(0, Σ/n) over test sets, Σ the seeds' covariance: each seed is one model everywhere
            deviations = np.array([per_seed[(i, j)] - per_seed[(i, j)].mean() for j in range(len(tests))]).T
            draws = rng.standard_normal((n_resamples, n))
            seed_dev[:, i, :] = draws @ deviations / np.sqrt(n * (n - 1))
            seed_sd[i] = deviations.std(axis=0, ddof=1)
        return cls(list(models), list(tests), n_seeds, point, frame_dev, seed_dev, seed_sd, tau, block, blocks)

    # --- storage (matrix/force_rmse_replicates.npz) --------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        write_arrays(path, self.__dict__)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ModelErrors:
        with np.load(path) as data:
            fields = {k: data[k] for k in data.files}
        return cls(**{**fields, "models": list(fields["models"]), "tests": list(fields["tests"])})

    # --- statistics -----------------------------------------------------------------------------------

    def index(self, model: str) -> int:
        return self.models.index(model)

    def estimate(
        self,
        statistic: Callable[[np.ndarray], np.ndarray],
        names: Sequence[str],
        positive: bool = False,
        tests: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Estimate, standard errors and 95 % interval of each output of ``statistic``, a function from
        matrices (…, models, tests) to values (…, len(names)); the interval of a ``positive`` statistic (a mean
        RMSE, a ratio of RMSEs) on the log scale (:func:`~mlip_transfer.models.uncertainty.interval`).

        Frame part: its spread over the block-bootstrap replicates, with (fewest blocks of a test set − 1)
        degrees of freedom (of the test sets ``tests`` where the statistic reads only those; all by default);
        seed part: its spread over seed-noise replicates, with (fewest seeds − 1)."""
        point = statistic(self.point[None])[0]
        se_frames = statistic(self.point + self.frame_deviations).std(axis=0, ddof=1)
        se_seeds = statistic(self.point + self.seed_deviations).std(axis=0, ddof=1)
        dof_frames = float(self.n_blocks[list(range(len(self.tests))) if tests is None else list(tests)].min() - 1)
        seeded = self.n_seeds[self.n_seeds > 1]
        dof_seeds = float(seeded.min() - 1) if len(seeded) else np.inf
        rows = []
        for name, value, sf, ss in zip(names, point, se_frames, se_seeds, strict=True):
            se, dof = uncertainty.combine(sf, dof_frames, ss, dof_seeds)
            low, high = uncertainty.interval(value, se, dof, positive)
            rows.append(
                {
                    "statistic": name,
                    "estimate": value,
                    "se_frames": sf,
                    "se_seeds": ss,
                    "se": se,
                    "dof": dof,
                    "ci_low": low,
                    "ci_high": high,
                }  # fmt: skip
            )
        return pd.DataFrame(rows).set_index("statistic")

    def entries(self) -> pd.DataFrame:
        """One row per (model, test set): seed-mean force RMSE, sd over seeds, frame and combined standard
        errors, 95 % interval, and the test set's correlation time, block length and number of blocks."""
        rows = []
        for i, model in enumerate(self.models):
            n = self.n_seeds[i]
            for j, test in enumerate(self.tests):
                se_frames = float(self.frame_deviations[:, i, j].std(ddof=1))
                se_seeds = float(self.seed_sd[i, j] / np.sqrt(n)) if n > 1 else 0.0
                se, dof = uncertainty.combine(se_frames, self.n_blocks[j] - 1, se_seeds, n - 1)
                low, high = uncertainty.interval(self.point[i, j], se, dof, positive=True)
                rows.append(
                    {
                        "model": model,
                        "test_concentration": test,
                        "n_seeds": n,
                        "force_rmse_meV_per_A": self.point[i, j],
                        "force_rmse_sd_meV_per_A": self.seed_sd[i, j],
                        "force_rmse_se_frames_meV_per_A": se_frames,
                        "force_rmse_se_meV_per_A": se,
                        "force_rmse_ci_low_meV_per_A": low,
                        "force_rmse_ci_high_meV_per_A": high,
                        "correlation_time_frames": self.tau_frames[j],
                        "block_length_frames": int(self.block_length[j]),
                        "independent_blocks": int(self.n_blocks[j]),
                        "uncertainty_reliable": bool(self.n_blocks[j] >= uncertainty.MIN_RELIABLE_BLOCKS),
                    }
                )
        return pd.DataFrame(rows)


# --- statistics of the matrix, vectorised over replicates (…, models, tests) ----------------------------


def mean_over(columns: Sequence[int] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """Each model's mean force RMSE over the given test sets (all by default)."""
    return lambda m: m.mean(axis=-1) if columns is None else m[..., list(columns)].mean(axis=-1)


def ratio_to_best(candidates: Sequence[int]) -> Callable[[np.ndarray], np.ndarray]:
    """Each model's mean over test sets of its error divided by the lowest error of the ``candidates`` on
    that test set (within each replicate): how hard a test set is drops out, and nobody's home counts more."""
    return lambda m: (m / m[..., list(candidates), :].min(axis=-2, keepdims=True)).mean(axis=-1)


def difference(statistic: Callable[[np.ndarray], np.ndarray], a: int, b: int) -> Callable[[np.ndarray], np.ndarray]:
    """Paired difference statistic[a] − statistic[b], on the same resampled frames and seed draws."""
    return lambda m: (lambda s: s[..., a] - s[..., b])(statistic(m))[..., None]


# --- views -------------------------------------------------------------------------------------------

UNCERTAINTY = {"force_rmse_meV_per_A": "force_rmse_se_meV_per_A"}  # the metrics with a standard error


def matrix_table(seed_means: pd.DataFrame, errors: ModelErrors, concentrations: pd.DataFrame) -> pd.DataFrame:
    """The tidy transferability matrix: every metric's seed mean (:func:`evaluation.seed_means`), the force
    RMSE's uncertainties from ``errors`` (:meth:`ModelErrors.entries`), and each test concentration's
    stated and box molarity and molality (``concentrations``: the reference catalogue's ``concentration_table``)."""
    keys = ["model", "test_concentration"]
    entries = errors.entries()
    kept = [c for c in seed_means.columns if c in keys or c not in entries.columns]
    table = entries.merge(seed_means[kept], on=keys, how="left", validate="one_to_one")
    boxes = concentrations.rename(columns={"concentration": "test_concentration"}).add_prefix("test_")
    boxes = boxes.rename(columns={"test_test_concentration": "test_concentration"})
    return table.merge(boxes, on="test_concentration", how="left")


def home_models(concentrations: Sequence[str], training: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Each test concentration's 'home' model, trained on it alone: the study's fine-tune there, or where the
    study trains none (``training``: the models' training concentrations), the first external model declared
    to have been trained there (none where no model is)."""
    homes = {label: names.fine_tune(label) for label in concentrations}
    if training is None or any(model in training for model in homes.values()):
        return homes
    declared = {}
    for model, labels in training.items():
        if len(labels) == 1:
            declared.setdefault(labels[0], model)
    return {label: declared[label] for label in concentrations if label in declared}


def transferability_matrix(
    errors: pd.DataFrame, metric: str, model_order: Sequence[str], test_order: Sequence[str]
) -> pd.DataFrame:
    """Models as rows, test concentrations as columns, ``metric`` as values."""
    table = errors.pivot(index="model", columns="test_concentration", values=metric)
    return table.reindex(index=list(model_order), columns=list(test_order))


def relative_to_home(matrix: pd.DataFrame, home: Mapping[str, str]) -> pd.DataFrame:
    """Each test set's column divided by its home model's error (``home``: :func:`home_models`): 1 on the
    diagonal, and how many times worse than the specialist every other model is on that test set (the test
    set's own difficulty divided out); NaN on a test set without a home model."""
    return matrix / pd.Series({c: matrix.loc[home[c], c] if c in home else np.nan for c in matrix.columns})


def error_versus_distance(
    table: pd.DataFrame, training: Mapping[str, Sequence[str]], molarities: Mapping[str, float]
) -> pd.DataFrame:
    """Force RMSE of every single-concentration model against |Δc|, the distance (mol/L) between the
    molarities of its training box and the test box."""
    single = {model: labels[0] for model, labels in training.items() if len(labels) == 1}
    rows = table[table["model"].isin(single)].copy()
    rows["train_molarity_mol_per_L"] = rows["model"].map(lambda m: molarities[single[m]])
    rows["test_molarity_mol_per_L"] = rows["test_concentration"].map(molarities)
    rows["distance_mol_per_L"] = (rows["test_molarity_mol_per_L"] - rows["train_molarity_mol_per_L"]).abs()
    columns = ["model", "test_concentration", "train_molarity_mol_per_L", "test_molarity_mol_per_L"]
    return rows[[*columns, "distance_mol_per_L", "force_rmse_meV_per_A", "force_rmse_se_meV_per_A"]]


def model_kind(
    model: str,
    training: Mapping[str, Sequence[str]],
    external: Collection[str] = (),
    repaired: Collection[str] = (),
) -> str:
    if model == FOUNDATION:
        return "foundation"
    if model in external:
        return "external"  # trained elsewhere (external_models)
    if model in repaired:
        return "repair"  # a model's fine-tune continued at another concentration (repair)
    if model not in training:
        return "budget"  # a learning-curve fine-tune on a subset of a training split
    return "single" if len(training[model]) == 1 else "multi"


def is_candidate(kind: str, training_concentrations: Sequence[str]) -> bool:
    """A candidate of the single-concentration recommendation: a fine-tune on one concentration, or an external
    model declared to have been trained at one of the study's concentrations."""
    return kind == "single" or (kind == "external" and len(training_concentrations) == 1)


def transfer_summary(
    errors: ModelErrors,
    training: Mapping[str, Sequence[str]],
    external: Collection[str] = (),
    repaired: Collection[str] = (),
) -> pd.DataFrame:
    """Per model: force RMSE at home, mean over all test sets, mean ratio to the best candidate
    (:func:`is_candidate`) on each test set, and mean and worst off home, each with its standard error (and
    95 % interval for the two like-for-like statistics); candidates ranked by each.

    ``training`` maps each fine-tuned model of the study to its training concentrations (and each external
    model to the ones declared for it, each repaired model its base's and its target); a learning-curve
    fine-tune ("<model>.frames<n>", not in it) has its model's home."""
    kinds = {m: model_kind(m, training, external, repaired) for m in errors.models}
    candidates = {m for m, k in kinds.items() if is_candidate(k, training.get(m, []))}
    singles = [errors.index(m) for m in errors.models if m in candidates]
    statistics = {  # name: (statistic, unit of its columns)
        "mean_all": (mean_over(), "_meV_per_A"),
        DECISIVE: (ratio_to_best(singles or range(len(errors.models))), ""),
    }
    table = pd.DataFrame({"model": errors.models, "kind": [kinds[m] for m in errors.models]})
    homes = [training.get(names.model_of(m), []) for m in errors.models]
    table["training_concentrations"] = [" ".join(h) for h in homes]
    for name, (statistic, unit) in statistics.items():
        result = errors.estimate(statistic, errors.models, positive=True)
        for column in ("estimate", "se", "ci_low", "ci_high"):
            suffix = "" if column == "estimate" else f"_{column}"
            table[f"{name}{suffix}{unit}"] = result[column].to_numpy()
    for i, home in enumerate(homes):
        own = [errors.tests.index(t) for t in home if t in errors.tests]
        away = [j for j in range(len(errors.tests)) if j not in own]
        for name, columns in (("home", own), ("off_home", away)):
            if columns:
                result = errors.estimate(lambda m, c=columns, i=i: mean_over(c)(m)[..., [i]], [name]).iloc[0]
                table.loc[i, [f"mean_{name}_meV_per_A", f"mean_{name}_se_meV_per_A"]] = result["estimate"], result["se"]
        worst = max(away, key=lambda j: errors.point[i, j]) if away else None
        if worst is not None:
            table.loc[i, ["worst_off_home_meV_per_A", "worst_off_home_test"]] = (
                errors.point[i, worst],
                errors.tests[worst],
            )
    single = table["model"].isin(candidates)
    for name in ("mean_all_meV_per_A", DECISIVE, "mean_off_home_meV_per_A"):
        table.loc[single, f"rank_{name.removesuffix('_meV_per_A')}"] = table.loc[single, name].rank(method="min")
    return table


def paired_difference(errors: ModelErrors, statistic, a: str, b: str, tests: Sequence[int] | None = None) -> pd.Series:
    """Estimate, standard error and 95 % interval of statistic(a) − statistic(b) on the same frames (``tests``:
    the test sets the statistic reads, where not all)."""
    return errors.estimate(difference(statistic, errors.index(a), errors.index(b)), [f"{a} - {b}"], tests=tests).iloc[0]


def recommendation(errors: ModelErrors, summary: pd.DataFrame, molarities: Mapping[str, float]) -> dict:
    """Which single concentration to fine-tune on, decided like for like: the lowest mean ratio to the best
    single-concentration model on each test set (every candidate judged on the same test sets); whether the
    runner-up is distinguishable from it (95 % interval of their paired difference excludes 0); the ranking
    by the plain mean over all test sets beside it; and whether the best multi-concentration model beats it.
    Off-home means are a view, never the decision: each candidate would drop a different test set."""
    candidate = [
        is_candidate(k, t.split())
        for k, t in zip(summary["kind"], summary["training_concentrations"].fillna(""), strict=True)
    ]
    single = summary[candidate].sort_values(DECISIVE)
    if len(single) < 2:
        return {"statement": "fewer than two single-concentration models: nothing to choose between"}
    best, runner_up = single.iloc[0], single.iloc[1]
    statistic = ratio_to_best([errors.index(m) for m in single["model"]])
    gap = paired_difference(errors, statistic, best["model"], runner_up["model"])
    clear = bool(gap["ci_high"] < 0)
    by_mean = single.sort_values("mean_all_meV_per_A").iloc[0]
    label = best["training_concentrations"]
    result = {
        "decided_by": DECISIVE,
        "best_single_model": best["model"],
        "best_single_molarity_mol_per_L": molarities[label],
        "ratio_to_best": best[DECISIVE],
        "ratio_to_best_ci_low": best[f"{DECISIVE}_ci_low"],
        "ratio_to_best_ci_high": best[f"{DECISIVE}_ci_high"],
        "mean_all_meV_per_A": best["mean_all_meV_per_A"],
        "runner_up_model": runner_up["model"],
        "runner_up_ratio_to_best": runner_up[DECISIVE],
        "difference_to_runner_up": gap["estimate"],
        "difference_ci_low": gap["ci_low"],
        "difference_ci_high": gap["ci_high"],
        "distinguishable_from_runner_up": clear,
        "lowest_mean_all_model": by_mean["model"],
    }
    text = (
        f"Train on {molarities[label]:.2f} mol/L ({best['model']}): its force RMSE is on average "
        f"{best[DECISIVE]:.3f}× the best single-concentration model's on each test set "
        f"({_interval(best[f'{DECISIVE}_ci_low'], best[f'{DECISIVE}_ci_high'])}); the runner-up "
        f"{runner_up['model']} is {runner_up[DECISIVE]:.3f}×, paired difference {gap['estimate']:+.3f} "
        f"({_interval(gap['ci_low'], gap['ci_high'], signed=True)}): " + _verdict(gap, "distinguishable.")
    )
    text += (
        f" By the plain mean over all test sets {by_mean['model']} ranks first "
        f"({by_mean['mean_all_meV_per_A']:.1f} meV/Å)"
        + (", the same model." if by_mean["model"] == best["model"] else "; the hardest test set weighs most there.")
    )
    multi = summary[summary["kind"] == "multi"]
    if len(multi):
        text += _best_multi_against(errors, statistic, multi.sort_values(DECISIVE).iloc[0], best, result)
    result["statement"] = text
    return result


def recommendation_statement(path: str | os.PathLike) -> str | None:
    """The recommendation's sentence from a written ``matrix/recommendation.csv`` (None where there is none)."""
    return str(pd.read_csv(path)["statement"].iloc[0]) if Path(path).is_file() else None


def _best_multi_against(errors: ModelErrors, statistic, rival: pd.Series, best: pd.Series, result: dict) -> str:
    """The best multi-concentration model against the recommended single one, paired on the same test frames:
    its columns added to ``result``, and the sentence that says it."""
    versus = paired_difference(errors, statistic, rival["model"], best["model"])
    beats = bool(versus["ci_high"] < 0)
    result.update(
        best_multi_model=rival["model"],
        best_multi_ratio_to_best=rival[DECISIVE],
        multi_minus_single=versus["estimate"],
        multi_minus_single_ci_low=versus["ci_low"],
        multi_minus_single_ci_high=versus["ci_high"],
        multi_beats_best_single=beats,
    )
    if not np.isfinite(versus["ci_low"]):
        verdict = "cannot be judged against it"
    else:
        verdict = "beats it" if beats else "is worse" if versus["ci_low"] > 0 else "is not distinguishable from it"
    return (
        f" The best multi-concentration model {rival['model']} ({rival[DECISIVE]:.3f}×) {verdict} "
        f"(paired difference {versus['estimate']:+.3f}, {_interval(versus['ci_low'], versus['ci_high'], True)})."
    )


def _interval(low: float, high: float, signed: bool = False) -> str:
    if not np.isfinite(low):
        return "no interval: fewer than two independent blocks of test frames"
    return f"95 % interval {low:+.3f} to {high:+.3f}" if signed else f"95 % interval {low:.3f}–{high:.3f}"


def _verdict(difference: pd.Series, distinguishable: str) -> str:
    """What a paired difference's interval says (``distinguishable`` when it excludes 0)."""
    if not np.isfinite(difference["ci_low"]):
        return "cannot be judged (the test sets are too short for an uncertainty)."
    if difference["ci_high"] < 0 or difference["ci_low"] > 0:
        return distinguishable
    return "not distinguishable (the interval contains 0)."


def home_test_sets(errors: ModelErrors, in_trajectory: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Each fine-tune's error at home on two test sets: the last block of its own training AIMD (the cheap
    choice, sharing the training trajectory) and its concentration's independent test AIMD (what every other
    model is judged on). ``in_trajectory``: per-frame errors of each fine-tune and seed on "<label>.block"."""
    entries = errors.entries().set_index(["model", "test_concentration"])
    by_block: dict[str, list[pd.DataFrame]] = {}
    for table in in_trajectory:
        by_block.setdefault(table["test_concentration"].iloc[0], []).append(table)
    rows = []
    for block, tables in by_block.items():
        label = names.test_set_concentration(block)[0]
        model = names.fine_tune(label)
        own = ModelErrors.from_frame_errors(tables, [model], [block]).entries().iloc[0]
        independent = entries.loc[(model, label)]
        row = {"model": model, "concentration": label}
        for name, entry in (("in_trajectory", own), ("independent", independent)):
            for column in ("force_rmse", "force_rmse_se", "force_rmse_ci_low", "force_rmse_ci_high"):
                row[f"{name}_{column}_meV_per_A"] = entry[f"{column}_meV_per_A"]
            row[f"{name}_independent_blocks"] = entry["independent_blocks"]
        row["independent_over_in_trajectory"] = row["independent_force_rmse_meV_per_A"] / own["force_rmse_meV_per_A"]
        rows.append(row)
    return pd.DataFrame(rows)
