"""A job's settings as Snakemake compares them: a rule's params hold exactly what its job's result depends on,
and Snakemake reruns a job whose params' ``repr`` changed. Settings are therefore plain builtins with every
mapping's keys sorted (:func:`canonical`): a config rewritten with its keys in another order reruns nothing.
How a job runs is never among them (:mod:`mlip_transfer.launch`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict


def canonical(value):
    """``value`` with every mapping's keys sorted, recursively, and tuples as lists: one ``repr`` per content."""
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


class JobSettings:
    """Base of a frozen dataclass holding what one kind of job's result depends on: the catalogue builds it,
    the rule passes :meth:`as_params`, and the job's script rebuilds it with :meth:`from_params` and hands it
    to the library whole."""

    def as_params(self) -> dict:
        return canonical(asdict(self))

    @classmethod
    def from_params(cls, params: Mapping):
        return cls(**params)
