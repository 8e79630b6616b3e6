"""Statistics over independent MD replicas of one (model, concentration): the mean of each quantity, its
replica-to-replica standard error and 95 % interval (Student's t with n − 1 degrees of freedom, on the log
scale for a positive mean), beside the
mean of the within-replica block errors (Maginn et al., LiveCoMS 1, 6324 (2019): independent replicas, not
blocks of one trajectory, are what a dilute box's single-particle D needs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..models.uncertainty import t_quantile


def replica_means(
    runs: pd.DataFrame, keys: Sequence[str], values: Sequence[str], block_errors: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per ``keys`` from one row per replica: every column of ``values`` becomes its mean, with
        ``<value>_replica_se`` and ``<value>_ci_low``/``_ci_high`` (NaN for a single replica) and ``n_replicas``; a
    value missing in one replica is missing in the mean.
        ``block_errors`` maps a value to its within-replica error column, kept as that column's mean; the value's
        ``error`` column becomes the replica standard error where there are two or more replicas, else the block
        error. Boolean columns become True only where every replica is; text columns join their distinct values."""
    grouped = runs.groupby(list(keys), sort=False)
    # a replica without a value (a D not measured) leaves the mean without one: never the other replicas' alone
    table = grouped[list(values)].agg(lambda column: column.mean(skipna=False))
    n = grouped.size()
    table["n_replicas"] = n
    for value in values:
        se = grouped[value].std(ddof=1) / np.sqrt(n)
        half = se * n.map(lambda k: t_quantile(k - 1) if k > 1 else np.nan)
        se = se.where(table[value].notna())  # no value, no error of it
        table[f"{value}_replica_se"] = se
        # every value here is non-negative (a D, a conductivity, a count): a positive mean's interval is taken
        # on the log scale (mlip_transfer.models.uncertainty.interval), so no bound falls below zero
        factor = np.exp(half / table[value].where(table[value] > 0))
        table[f"{value}_ci_low"] = (table[value] / factor).fillna(table[value] - half)
        table[f"{value}_ci_high"] = (table[value] * factor).fillna(table[value] + half)
    for value, error in (block_errors or {}).items():
        block = grouped[error].mean()
        table[f"{error}_within_replica"] = block
        table[error] = table[f"{value}_replica_se"].where(n > 1, block)
    others = [c for c in runs.columns if c not in (*keys, *values, *(block_errors or {}).values())]
    for column in others:
        if pd.api.types.is_bool_dtype(runs[column]):
            table[column] = grouped[column].all()
        elif pd.api.types.is_numeric_dtype(runs[column]):
            table[column] = grouped[column].mean()
        else:
            table[column] = grouped[column].agg(
                lambda v: "; ".join(sorted({part for x in v if x == x for part in str(x).split("; ") if part}))
            )  # each replica's reasons, once
    return table.reset_index()


# what a replica's spread is reported for, and the within-replica block error each one has
HBOND_ERRORS = {
    "hbonds_accepted_per_OH-": "hbonds_accepted_per_OH-_error",
    "hbonds_OH-->OH-_per_OH-": "hbonds_OH-->OH-_per_OH-_error",
    "proton_transfers_per_OH-_per_ps": None,
}
DIFFUSION_ERRORS = {
    "D_1e-9_m2_per_s": "D_error_1e-9_m2_per_s",
    "D_yeh_hummer_1e-9_m2_per_s": None,
    "nernst_einstein_S_per_m": None,
    "einstein_helfand_S_per_m": "einstein_helfand_error_S_per_m",
    "einstein_helfand_over_nernst_einstein": None,
}


def runs_table(tables: Mapping[str, pd.DataFrame], molarities: Mapping[str, float]) -> pd.DataFrame:
    """The tables of analysed runs (``{run id: table}``, the run "<source>/<system>": a model's MD replica
    "<label>.r<k>" or the AIMD of a label) in one, labelled with model, concentration, replica and the box
    molarity."""
    from ..names import replica_of, run_parts

    labelled = []
    for run, table in tables.items():
        source, system = run_parts(run)
        label, replica = replica_of(system)
        labelled.append(
            table.assign(model=source, concentration=label, replica=replica or 0, molarity_mol_per_L=molarities[label])
        )
    if not labelled:  # a study without MD has no stability tables
        return pd.DataFrame(columns=["model", "concentration", "replica", "molarity_mol_per_L"])
    return pd.concat(labelled, ignore_index=True)


def summarise(runs: pd.DataFrame, errors: dict[str, str | None], keys: Sequence[str]) -> pd.DataFrame:
    """:func:`replica_means` of a runs table over its replicas, for the quantities in ``errors``."""
    return replica_means(
        runs.drop(columns="replica"),
        [*keys],
        [v for v in errors if v in runs],
        {v: e for v, e in errors.items() if e and v in runs},
    )
