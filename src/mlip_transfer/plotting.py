"""Figures: transferability heatmaps, parity plots, hydrogen bonds and diffusion versus concentration.

Each function writes its figure to every path it is given (the format follows the suffix: PNG, PDF).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .chemistry import Hydroxide  # noqa: E402
from .files import atomic_path  # noqa: E402
from .models.evaluation import METRICS, Predictions  # noqa: E402
from .models.transfer import UNCERTAINTY, home_models, transferability_matrix  # noqa: E402
from .models.uncertainty import MIN_RELIABLE_BLOCKS  # noqa: E402
from .names import fine_tune  # noqa: E402

Paths = Sequence[str | os.PathLike]  # one figure's files, e.g. [name.png, name.pdf]


def save(fig, paths: Paths) -> None:
    """Write the figure to each of ``paths`` (format from the suffix) and close it."""
    for destination in map(Path, paths):
        destination.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(destination) as path:
            fig.savefig(path, format=destination.suffix[1:], dpi=150, bbox_inches="tight")
    plt.close(fig)


def heatmap(
    matrix: pd.DataFrame,
    label: str,
    paths: Paths,
    molarities: Mapping[str, float],
    home: Mapping[str, str] | None = None,
    errors: pd.DataFrame | None = None,
    digits: int = 1,
    unreliable: Sequence[str] = (),
    note: str = "",
) -> None:
    """Annotated heatmap: models (rows) × test concentrations (columns, at their box molarity); ``home``
    (test → model) outlines each test set's own model, ``errors`` (same shape) adds ± standard errors, a
    test set in ``unreliable`` is marked † (too few independent blocks for its ± to be trusted), and
    ``note`` is printed below."""
    fig, ax = plt.subplots(figsize=(1.2 * matrix.shape[1] + 3, 0.6 * matrix.shape[0] + 2))
    image = ax.imshow(matrix.to_numpy(float), cmap="viridis")
    ax.set_xticks(
        range(matrix.shape[1]), [f"{molarities[c]:.2f}" + ("†" if c in unreliable else "") for c in matrix.columns]
    )
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    ax.set_xlabel("test concentration (box molarity, mol/L)")
    ax.set_ylabel("model")
    finite = matrix.to_numpy(float)
    middle = np.nanmean(finite)
    for (i, j), value in np.ndenumerate(finite):
        text = f"{value:.{digits}f}"
        if errors is not None and np.isfinite(errors.iloc[i, j]):
            text += f"\n±{errors.iloc[i, j]:.{digits}f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if value < middle else "black")
    for j, test in enumerate(matrix.columns):
        if home and home.get(test) in matrix.index:
            i = list(matrix.index).index(home[test])
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    fig.colorbar(image, ax=ax, label=label)
    footnotes = [note] if note else []
    if len(unreliable):
        footnotes.append(f"† fewer than {MIN_RELIABLE_BLOCKS} independent blocks of frames: its ± is not reliable")
    if footnotes:
        fig.text(0.01, -0.02, "\n".join(footnotes), fontsize=7, va="top")
    save(fig, paths)


def transferability_heatmaps(
    table: pd.DataFrame, models: Sequence[str], boxes: pd.DataFrame, outputs: Mapping[str, Paths], note: str
) -> None:
    """One heatmap per metric of :data:`evaluation.METRICS` from the tidy matrix (:func:`transfer.matrix_table`),
    force RMSE with its combined standard error (seeds and block-bootstrapped frames), test sets at their box
    molarity (``boxes``: the reference catalogue's ``concentration_table``)."""
    tests = list(boxes["concentration"])
    molarities = dict(zip(tests, boxes["molarity_mol_per_L"], strict=True))
    reliable = table.groupby("test_concentration")["uncertainty_reliable"].all()
    for metric, label in METRICS.items():
        se = UNCERTAINTY.get(metric)
        heatmap(
            transferability_matrix(table, metric, models, tests),
            label + (" ± se (seeds and frames)" if se else ""),
            outputs[metric],
            molarities,
            home=home_models(tests),
            errors=transferability_matrix(table, se, models, tests) if se else None,
            unreliable=[t for t in tests if not reliable[t]],
            note=note,
        )


def error_versus_distance(table: pd.DataFrame, paths: Paths) -> None:
    """Force RMSE of each single-concentration model against |Δc| from its training concentration."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for model, rows in table.sort_values("distance_mol_per_L").groupby("model", sort=False):
        ax.errorbar(
            rows["distance_mol_per_L"],
            rows["force_rmse_meV_per_A"],
            yerr=rows["force_rmse_se_meV_per_A"],
            marker="o",
            capsize=3,
            label=f"{model} ({rows['train_molarity_mol_per_L'].iloc[0]:.2f} mol/L)",
        )
    ax.set_xlabel("|Δc| from the training concentration (mol/L)")
    ax.set_ylabel("force RMSE (meV/Å)")
    ax.legend(fontsize=7)
    save(fig, paths)


def ratio_to_best(summary: pd.DataFrame, statement: str, reliable: bool, paths: Paths) -> None:
    """The answer at a glance: each model's mean ratio of its force RMSE to the best candidate's on each test
    set (:func:`~mlip_transfer.models.transfer.transfer_summary`) with its 95 % interval, best first;
    candidates of the single-concentration recommendation filled, the recommendation's sentence below. Where
    some test set has fewer than ``MIN_RELIABLE_BLOCKS`` independent blocks (``reliable`` False), the
    intervals are marked † as not to be trusted."""
    table = summary.sort_values("ratio_to_best", ascending=False)
    fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(table) + 2.2))
    y = np.arange(len(table))
    errors = [
        table["ratio_to_best"] - table["ratio_to_best_ci_low"],
        table["ratio_to_best_ci_high"] - table["ratio_to_best"],
    ]
    candidate = table["rank_ratio_to_best"].notna().to_numpy()
    for rows, style in (
        (candidate, {"color": "C0", "label": "single-concentration candidates"}),
        (~candidate, {"color": "C7", "mfc": "white", "label": "other models"}),
    ):
        ax.errorbar(table["ratio_to_best"][rows], y[rows], xerr=[e[rows] for e in errors], fmt="o", capsize=3, **style)
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    ax.set_yticks(y, [f"{m} ({k})" for m, k in zip(table["model"], table["kind"], strict=True)])
    ax.set_xlabel("mean force RMSE / best candidate's, per test set" + ("" if reliable else " †"))
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    notes = (
        []
        if reliable
        else [f"† fewer than {MIN_RELIABLE_BLOCKS} independent blocks on some test set: the intervals are not reliable"]
    )
    wrapped = "\n".join(textwrap.wrap(statement, 110))
    fig.text(0.01, -0.02, "\n".join([wrapped, *notes]), fontsize=7, va="top")
    save(fig, paths)


def committee_disagreement(table: pd.DataFrame, paths: Paths, members_differ_in: str) -> None:
    """True force error against the committee's disagreement, one point per model and test set (filled:
    the model's own training concentration); the title gives their Spearman rank correlation off home and
    what the members differ in."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for model, rows in table.groupby("model", sort=False):
        colour = ax.plot([], [], "o", label=model)[0].get_color()
        for home, style in ((True, {"color": colour}), (False, {"markerfacecolor": "none", "color": colour})):
            own = rows[rows["home"] == home]
            ax.plot(own["committee_force_sd_meV_per_A"], own["force_rmse_meV_per_A"], "o", ls="none", **style)
    off_home = table[~table["home"]]
    rho = off_home["committee_force_sd_meV_per_A"].corr(off_home["force_rmse_meV_per_A"], method="spearman")
    ax.set_title(
        f"off home: Spearman ρ = {rho:.2f} over {len(off_home)} points\nmembers differ in {members_differ_in}",
        fontsize=9,
    )
    ax.set_xlabel("committee force standard deviation (meV/Å)")
    ax.set_ylabel("force RMSE, mean over seeds (meV/Å)")
    ax.legend(fontsize=7, title="filled: home test set", title_fontsize=7)
    save(fig, paths)


def learning_curves(table: pd.DataFrame, molarities: Mapping[str, float], paths: Paths) -> None:
    """Force RMSE against training frames, one panel per fine-tuned concentration and one line per test
    set (thick: the model's own)."""
    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.6), squeeze=False, sharey=True)
    for ax, model in zip(axes[0], models, strict=True):
        for test, rows in table[table["model"] == model].groupby("test_concentration", sort=False):
            ax.errorbar(
                rows["training_frames"], rows["force_rmse_meV_per_A"], yerr=rows["force_rmse_se_meV_per_A"],
                marker="o", capsize=3, lw=2.5 if model == fine_tune(test) else 1.0,
                label=f"test {molarities[test]:.2f} mol/L",
            )  # fmt: skip
        ax.set_xscale("log")
        frames = sorted(set(table.loc[table["model"] == model, "training_frames"]))
        ax.set_xticks(frames, [str(n) for n in frames])
        ax.minorticks_off()
        ax.set_title(model, fontsize=9)
        ax.set_xlabel("training frames")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("force RMSE (meV/Å)")
    save(fig, paths)


def repair_curves(
    curves: pd.DataFrame, summary: pd.DataFrame, homes: Mapping[str, Sequence[str]], paths: Paths
) -> None:
    """Per (base, target): force RMSE at the target (left) and at the base's home (right) against the new
    frames, one line per selection with its 95 % intervals (hollow markers: too few test blocks for a
    reliable interval), the base (n = 0) and the target's own fine-tune as reference lines."""
    pairs = list(dict.fromkeys(zip(curves["base"], curves["target"], strict=True)))
    fig, axes = plt.subplots(len(pairs), 2, figsize=(9.5, 3.6 * len(pairs)), squeeze=False)
    for row, (base, target) in zip(axes, pairs, strict=True):
        pair = curves[(curves["base"] == base) & (curves["target"] == target)]
        own = summary[(summary["base"] == base) & (summary["target"] == target)].iloc[0]
        home = list(homes.get(base, []))
        for ax, tests, title in (
            (row[0], [target], f"at the target {target}"),
            (row[1], home, f"at home {' '.join(home)}"),
        ):
            if not tests:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"{base} has no home test set", ha="center", transform=ax.transAxes)
                continue
            shown = pair[pair["test_concentration"] == tests[0]]
            for selection, points in shown.groupby("selection", sort=False):
                points = points.sort_values("n_frames")
                y = points["force_rmse_meV_per_A"].to_numpy()
                yerr = [y - points["force_rmse_ci_low_meV_per_A"], points["force_rmse_ci_high_meV_per_A"] - y]
                _flagged_series(ax, points["n_frames"], y, points["uncertainty_reliable"], np.abs(yerr), selection)
            base_rmse = shown.loc[shown["n_frames"] == 0, "force_rmse_meV_per_A"]
            if len(base_rmse):
                ax.axhline(base_rmse.iloc[0], color="grey", ls=":", label=f"{base} (base)")
            goal = own["own_force_rmse_meV_per_A"]
            if tests[0] == target and np.isfinite(goal):
                ax.axhline(goal, color="k", ls="--", label=f"{own['own_model']} (own)")
                ax.axhspan(goal, goal * (1 + own["within_percent"] / 100), color="k", alpha=0.08, lw=0)
            ax.set_title(f"{base} {title}", fontsize=9)
            ax.set_xlabel("new frames at the target (0: the base)")
            ax.set_ylabel("force RMSE (meV/Å)")
            ax.legend(fontsize=7)
    if not curves["uncertainty_reliable"].astype(bool).all():
        fig.text(0.01, -0.06 / len(pairs), f"hollow: fewer than {MIN_RELIABLE_BLOCKS} independent blocks of test "
                 "frames, the interval is not reliable", fontsize=7)  # fmt: skip
    save(fig, paths)


def cost_accuracy(table: pd.DataFrame, paths: Paths) -> None:
    """Mean force RMSE over all test sets (± its uncertainty) of every model against what it cost: the AIMD
    core-hours charged for its training data (left; :mod:`.cost`'s rule) and the hours of its fine-tunes
    (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), sharey=True)
    markers = {"foundation": "^", "single": "o", "multi": "s", "budget": "x", "repair": "+"}
    for ax, column, label in (
        (axes[0], "aimd_core_h", "AIMD core-hours charged for its training frames"),
        (axes[1], "training_wall_h", "fine-tuning wall hours (all seeds)"),
    ):
        for _, row in table[table[column].notna()].iterrows():  # an external model's cost is not known
            ax.errorbar(
                row[column], row["mean_all_meV_per_A"], yerr=row["mean_all_se_meV_per_A"],
                marker=markers[row["kind"]], capsize=3, ls="none",
            )  # fmt: skip
            ax.annotate(row["model"], (row[column], row["mean_all_meV_per_A"]), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
        ax.set_xlabel(label)
    axes[0].set_ylabel("mean force RMSE over all test sets (meV/Å)")
    axes[0].set_title("▲ foundation, ● one concentration, ■ several, × fewer training frames, + repaired", fontsize=8)
    external = table.loc[table["kind"] == "external", "model"]
    if len(external):
        fig.text(0.01, -0.02, f"not shown (trained elsewhere, cost not known): {', '.join(external)}", fontsize=7)
    save(fig, paths)


def own_md_errors(runs: pd.DataFrame, within_percent: float, paths: Paths) -> None:
    """Each MD run's model on its own MD frames (re-labelled with the reference method) against the same model
    on the AIMD test set of that concentration, with standard errors; the dashed line is the verdict's limit
    (own-MD error ``within_percent`` % above), hollow markers the runs beyond it."""
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    verdict = f"own_md_within_{within_percent:g}_percent"
    for model, rows in runs.groupby("model", sort=False):
        colour = ax.plot([], [], "o", label=model)[0].get_color()
        for passed, style in ((True, {}), (False, {"mfc": "white"})):
            chosen = rows[rows[verdict] == passed]
            ax.errorbar(
                chosen["aimd_test_force_rmse_meV_per_A"], chosen["own_md_force_rmse_meV_per_A"],
                xerr=chosen["aimd_test_force_rmse_se_meV_per_A"], yerr=chosen["own_md_force_rmse_se_meV_per_A"],
                marker="o", ls="none", capsize=3, color=colour, **style,
            )  # fmt: skip
        for _, row in rows.iterrows():
            where = (row["aimd_test_force_rmse_meV_per_A"], row["own_md_force_rmse_meV_per_A"])
            dagger = "" if row["own_md_uncertainty_reliable"] else "†"  # too few independent blocks for its ±
            ax.annotate(row["concentration"] + dagger, where, fontsize=6, xytext=(3, 3), textcoords="offset points")
    top = np.nanmax([runs["aimd_test_force_rmse_meV_per_A"].max(), runs["own_md_force_rmse_meV_per_A"].max()]) * 1.1
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.plot([0, top], [0, top * (1 + within_percent / 100)], "k--", lw=0.8, label=f"+{within_percent:g} %")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top * (1 + within_percent / 100))
    ax.set_xlabel("force RMSE on the AIMD test set (meV/Å)")
    ax.set_ylabel("force RMSE on its own MD frames (meV/Å)")
    ax.legend(fontsize=7, title="hollow: beyond the limit; †: ± untrusted", title_fontsize=7)
    save(fig, paths)


def parity(predictions: Mapping[str, Predictions], model: str, paths: Paths) -> None:
    """Predicted against reference force components, one panel per test concentration."""
    fig, axes = plt.subplots(1, len(predictions), figsize=(3.2 * len(predictions), 3.4), squeeze=False)
    for ax, (test, p) in zip(axes[0], predictions.items(), strict=True):
        ref, pred = p.forces_ref_eV_per_A.ravel(), p.forces_pred_eV_per_A.ravel()
        lim = np.abs(np.concatenate([ref, pred])).max() * 1.05
        ax.plot([-lim, lim], [-lim, lim], color="grey", lw=0.8)
        ax.scatter(ref, pred, s=2, alpha=0.4)
        rmse = 1000 * np.sqrt(np.mean((pred - ref) ** 2))
        ax.set_title(f"test {test}\nRMSE {rmse:.1f} meV/Å", fontsize=9)
        ax.set_xlabel("reference force (eV/Å)")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    axes[0, 0].set_ylabel(f"{model} force (eV/Å)")
    save(fig, paths)


def versus_concentration(
    table: pd.DataFrame,
    value: str,
    group: str,
    label: str,
    paths: Paths,
    hydroxide: Hydroxide,
    error: str | None = None,
) -> None:
    """``value`` against ``molarity_mol_per_L``, one line per ``group``."""
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    for name, rows in table.sort_values("molarity_mol_per_L").groupby(group):
        yerr = rows[error] if error else None
        ax.errorbar(rows["molarity_mol_per_L"], rows[value], yerr=yerr, marker="o", capsize=3, label=str(name))
        if _ring_runs_that_left_the_aimd(ax, rows["molarity_mol_per_L"], rows[value], rows):
            ax.set_title(LEFT_RANGE_NOTE, fontsize=7)
    ax.set_xlabel(f"{hydroxide.formula} concentration (mol/L)")
    ax.set_ylabel(label)
    ax.legend(fontsize=8)
    save(fig, paths)


NOT_DIFFUSIVE_NOTE = "hollow: not converged (log–log MSD slope outside [0.9, 1.1] or fit window too short)"
LEFT_RANGE_NOTE = "red ring: the MD left its AIMD's envelope (tables/md_stability.csv)"


def _ring_runs_that_left_the_aimd(ax, x, y, table: pd.DataFrame) -> bool:
    """Red rings around the points of runs flagged ``left_aimd_range``; whether there were any."""
    if "left_aimd_range" not in table:
        return False
    left = table["left_aimd_range"].astype(bool).to_numpy()
    ax.plot(np.asarray(x)[left], np.asarray(y)[left], "o", ms=12, mfc="none", mec="red", mew=1.5)
    return bool(left.any())


def _flagged_series(ax, x, y, trusted, yerr=None, label=None, **style) -> None:
    """One line with filled markers where ``trusted`` and hollow ones where not."""
    line = ax.errorbar(x, y, yerr=yerr, marker="none", capsize=3, label=label, **style)[0]
    trusted = np.asarray(trusted, dtype=bool)
    x, y, colour = np.asarray(x), np.asarray(y), line.get_color()
    ax.plot(x[trusted], y[trusted], "o", color=colour)
    ax.plot(x[~trusted], y[~trusted], "o", color=colour, mfc="white")


def diffusion_panels(diffusion: pd.DataFrame, paths: Paths, hydroxide: Hydroxide) -> None:
    """D against concentration, one panel per species, one line per model (AIMD included), with block
    errors; hollow markers where D is not converged (``diffusive`` false); the experimental
    infinite-dilution value of each species as a dashed line (pure water's self-diffusion beside all oxygens)."""
    reference = hydroxide.infinite_dilution_diffusion()
    reference["O"] = reference.pop("H2O")
    species = list(dict.fromkeys(diffusion["species"]))
    fig, axes = plt.subplots(1, len(species), figsize=(4 * len(species), 3.8), squeeze=False)
    left = False
    for ax, sp in zip(axes[0], species, strict=True):
        rows = diffusion[diffusion["species"] == sp].sort_values("molarity_mol_per_L")
        for model, by_model in rows.groupby("model"):
            _flagged_series(
                ax,
                by_model["molarity_mol_per_L"],
                by_model["D_1e-9_m2_per_s"],
                by_model["diffusive"],
                yerr=by_model["D_error_1e-9_m2_per_s"],
                label=model,
            )
            left |= _ring_runs_that_left_the_aimd(
                ax, by_model["molarity_mol_per_L"], by_model["D_1e-9_m2_per_s"], by_model
            )
        if sp in reference:
            ax.axhline(reference[sp]["value"], ls="--", color="grey", label="experiment, infinite dilution")
        ax.set_title(f"{sp} ({rows['particles'].iloc[0]})" if "particles" in rows else sp, fontsize=9)
        ax.set_xlabel(f"{hydroxide.formula} concentration (mol/L)")
    axes[0, 0].set_ylabel("D (10⁻⁹ m²/s)")
    axes[0, -1].legend(fontsize=7)
    notes = [NOT_DIFFUSIVE_NOTE] if not diffusion["diffusive"].all() else []
    notes += [LEFT_RANGE_NOTE] if left else []
    if notes:
        fig.text(0.5, -0.06, "; ".join(notes), ha="center", fontsize=8)
    save(fig, paths)


def conductivity(diffusion: pd.DataFrame, paths: Paths, hydroxide: Hydroxide) -> None:
    """Nernst–Einstein (from D(M⁺) and D(OH⁻)) and Einstein–Helfand (collective, with its block error)
    conductivity per model beside the experimental correlation, drawn only inside its fitted range (where the
    hydroxide has one); hollow markers where either D is not converged."""
    rows = diffusion.drop_duplicates(["model", "concentration"]).sort_values("molarity_mol_per_L")
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    for model, by_model in rows.groupby("model"):
        _flagged_series(
            ax,
            by_model["molarity_mol_per_L"],
            by_model["nernst_einstein_S_per_m"],
            by_model["nernst_einstein_diffusive"],
            label=f"{model} (Nernst–Einstein)",
        )
        ax.errorbar(
            by_model["molarity_mol_per_L"], by_model["einstein_helfand_S_per_m"],
            yerr=by_model["einstein_helfand_error_S_per_m"], marker="s", ls=":", capsize=3, mfc="white",
            label=f"{model} (Einstein–Helfand)",
        )  # fmt: skip
    experiment = rows.drop_duplicates("concentration")
    if experiment["experimental_conductivity_S_per_m"].notna().any():
        entry = hydroxide.known["conductivity"]
        low, high = entry["valid_molarity_mol_per_L"]
        ax.plot(
            experiment["molarity_mol_per_L"],
            experiment["experimental_conductivity_S_per_m"],
            "k--",
            label=f"experiment ({entry['source'].split(',')[0]}; fitted {low:g}–{high:g} mol/L)",
        )
    ax.set_xlabel(f"{hydroxide.formula} concentration (mol/L)")
    ax.set_ylabel("conductivity (S/m)")
    ax.legend(fontsize=7)
    if not rows["nernst_einstein_diffusive"].all():
        fig.text(0.5, -0.06, NOT_DIFFUSIVE_NOTE, ha="center", fontsize=8)
    save(fig, paths)


def rdf_panels(rdfs: Mapping[str, pd.DataFrame], paths: Paths) -> None:
    """g(r) of each pair, one line per (model, concentration) run."""
    pairs = [c[2:] for c in next(iter(rdfs.values())).columns if c.startswith("g_")]
    fig, axes = plt.subplots(1, len(pairs), figsize=(4 * len(pairs), 3.4), squeeze=False)
    for ax, pair in zip(axes[0], pairs, strict=True):
        for name, rdf in rdfs.items():
            ax.plot(rdf["r_A"], rdf[f"g_{pair}"], label=name, lw=1)
        ax.set_title(pair)
        ax.set_xlabel("r (Å)")
    axes[0, 0].set_ylabel("g(r)")
    axes[0, -1].legend(fontsize=7)
    save(fig, paths)
