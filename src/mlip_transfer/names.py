"""The names of a study's things, formatted and parsed here and nowhere else.

- **Models**: ``foundation``; ``ft_<label>``, the fine-tune of one concentration; a multi-concentration
  model's own name. A trained model may carry one suffix: ``.seed<n>`` for a committee member (the same
  model trained with another seed) or ``.frames<n>`` for a learning-curve point (the first n training frames).
- **Repaired models** (``repair``): ``rp_<base>_at_<target>_<selection><n>``, the base model's fine-tune
  continued on n frames of the target concentration chosen by ``selection`` (``even``, ``random``,
  ``committee``; ``md_even``, ``md_committee`` from the base's own MD); ``.seed<n>`` as for any trained model.
- **Systems** (an AIMD run): a concentration's label, its independent test AIMD ``<label>.test``, the
  pretraining box of a demo foundation model. An MD replica of a concentration is ``<label>.r<k>``.
- **Test sets**: a concentration's label (its test set, whichever frames it is), or ``<label>.block``, the
  test block of that concentration's own training AIMD, kept beside an independent test AIMD.

Labels match :data:`LABEL`, so a dotted suffix can never collide with one. The patterns are the workflow's
wildcard constraints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FOUNDATION = "foundation"
AIMD_SOURCE = "AIMD"  # the analysed "source" of the ab initio reference, beside model names
LABEL = r"[A-Za-z][A-Za-z0-9_]*"
FINE_TUNE_PREFIX = "ft_"
SEED, FRAMES = ".seed", ".frames"
TEST_TRAJECTORY, IN_TRAJECTORY, REPLICA = ".test", ".block", ".r"
MODEL_PATTERN = rf"{LABEL}(\{SEED}[0-9]+|\{FRAMES}[0-9]+)?"
SYSTEM_PATTERN = rf"{LABEL}(\{TEST_TRAJECTORY}|\{REPLICA}[0-9]+)?"
TEST_SET_PATTERN = rf"{LABEL}(\{IN_TRAJECTORY})?"
_MODEL = re.compile(rf"(?P<model>{LABEL})(?:\{SEED}(?P<seed>[0-9]+)|\{FRAMES}(?P<frames>[0-9]+))?")


@dataclass(frozen=True)
class ModelName:
    """A trained model's name: its model, the seed of a committee member (None: the study's own, first
    seed) and the training frames of a learning-curve point (None: all of them)."""

    model: str
    seed: int | None = None
    frames: int | None = None

    @classmethod
    def parse(cls, name: str) -> ModelName:
        match = _MODEL.fullmatch(name)
        if match is None:
            raise ValueError(f"{name!r} is not a model name: <model>, <model>{SEED}<n> or <model>{FRAMES}<n>")
        seed, frames = match.group("seed"), match.group("frames")
        return cls(match.group("model"), int(seed) if seed else None, int(frames) if frames else None)

    def __str__(self) -> str:
        if self.seed is not None:
            return f"{self.model}{SEED}{self.seed}"
        return f"{self.model}{FRAMES}{self.frames}" if self.frames is not None else self.model

    @property
    def concentration(self) -> str | None:
        """The label a single-concentration fine-tune ("ft_<label>") was trained on; None for other models."""
        return self.model.removeprefix(FINE_TUNE_PREFIX) if self.model.startswith(FINE_TUNE_PREFIX) else None


def fine_tune(label: str) -> str:
    """The model fine-tuned on one concentration's frames alone."""
    return f"{FINE_TUNE_PREFIX}{label}"


def committee_member(model: str, seed: int) -> str:
    return str(ModelName(model, seed=seed))


def frame_budget(model: str, frames: int) -> str:
    return str(ModelName(model, frames=frames))


def model_of(name: str) -> str:
    """The model a committee member or learning-curve point belongs to ("ft_c6_26.seed3" → "ft_c6_26")."""
    return ModelName.parse(name).model


def without_seed(name: str) -> str:
    """A committee member's model ("ft_c6_26.seed3" → "ft_c6_26"); other names, learning-curve points
    included, unchanged."""
    parsed = ModelName.parse(name)
    return str(ModelName(parsed.model, frames=parsed.frames))


REPAIR_PREFIX = "rp_"


def repaired(base: str, target: str, selection: str, frames: int) -> str:
    """A base model continued on ``frames`` frames of the ``target`` concentration picked by ``selection``."""
    return f"{REPAIR_PREFIX}{base}_at_{target}_{selection}{frames}"


def could_be_repaired(name: str) -> bool:
    """Whether a name has the form of a repaired model's (and so is not free for another model)."""
    return name.startswith(REPAIR_PREFIX)


def test_trajectory(label: str) -> str:
    """The system of a concentration's independent test AIMD."""
    return f"{label}{TEST_TRAJECTORY}"


def in_trajectory_test_set(label: str) -> str:
    """The test set of a concentration's own training-AIMD test block."""
    return f"{label}{IN_TRAJECTORY}"


def md_replica(label: str, replica: int) -> str:
    """The system of one MD replica of a concentration."""
    return f"{label}{REPLICA}{replica}"


def replica_of(system: str) -> tuple[str, int | None]:
    """(label, replica) of an MD replica's system; (label, None) for a concentration's own label."""
    label, dot, suffix = system.partition(".")
    if dot and (not suffix.startswith(REPLICA[1:]) or not suffix[1:].isdigit()):
        raise ValueError(f"{system!r} is not an MD system: <label> or <label>{REPLICA}<k>")
    return label, int(suffix[1:]) if dot else None


def md_reference_set(model: str, system: str) -> str:
    """The test set of reference-labelled frames from ``model``'s own MD replica ``system``."""
    return f"{model}@{system}"


def test_set_concentration(test_set: str) -> tuple[str, bool]:
    """(label, whether it is the in-trajectory block) of a test set's name."""
    label, dot, suffix = test_set.partition(".")
    if dot and f".{suffix}" != IN_TRAJECTORY or not re.fullmatch(LABEL, label):
        raise ValueError(f"{test_set!r} is not a test set name: <label> or <label>{IN_TRAJECTORY}")
    return label, bool(dot)


RUN_SEPARATOR = "/"  # never in a label or model name


def run_id(*parts: str) -> str:
    """The id of one run of a kind: (model, test set) of an evaluation, (source, system) of an analysed
    trajectory, (model, system) of an MD replica."""
    return RUN_SEPARATOR.join(parts)


def run_parts(run: str) -> tuple[str, ...]:
    """The parts of a run id (:func:`run_id`)."""
    return tuple(run.split(RUN_SEPARATOR))
