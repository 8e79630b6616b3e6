"""Train/validation/test splits and multi-concentration training sets.

Neighbouring MD frames are correlated, so a random split puts near-copies of test frames into the
training set. Splits here are contiguous blocks in time order (train, then validation, then test),
optionally separated by a gap of discarded frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from ase import Atoms

SPLITS = ("train", "valid", "test")


class SplitError(ValueError):
    """A split that cannot be made from the frames at hand."""


def time_block_split(
    frames: Sequence[Atoms], fractions: Mapping[str, float], gap_frames: int = 0
) -> dict[str, list[Atoms]]:
    """Split frames in time order into contiguous train / valid / test blocks.

    ``fractions`` gives each block's share of the frames left after the two gaps; ``gap_frames``
    frames are dropped between train and valid and between valid and test.
    """
    total = sum(fractions[s] for s in SPLITS)
    if not np.isclose(total, 1.0):
        raise SplitError(f"split fractions must add up to 1, got {total}")
    usable = len(frames) - 2 * gap_frames
    counts = {s: int(np.floor(fractions[s] * usable)) for s in SPLITS}
    counts["train"] = usable - counts["valid"] - counts["test"]
    empty = [s for s, n in counts.items() if n < 1]
    if empty:
        raise SplitError(
            f"{len(frames)} frames (gap {gap_frames}) leave the {', '.join(empty)} split empty; "
            "run longer AIMD or lower the stride"
        )
    train_end = counts["train"]
    valid_start = train_end + gap_frames
    test_start = valid_start + counts["valid"] + gap_frames
    return {
        "train": list(frames[:train_end]),
        "valid": list(frames[valid_start : valid_start + counts["valid"]]),
        "test": list(frames[test_start : test_start + counts["test"]]),
    }


def evenly_spaced(frames: Sequence[Atoms], n: int) -> list[Atoms]:
    """``n`` frames spread evenly over the whole sequence (so every part of the trajectory is used)."""
    if n > len(frames):
        raise SplitError(f"asked for {n} frames from a set of {len(frames)}")
    return [frames[i] for i in np.linspace(0, len(frames) - 1, n).round().astype(int)]


def nested_subset(frames: Sequence[Atoms], n: int, seed: int) -> list[Atoms]:
    """The first ``n`` frames of one seeded random order, returned in time order: the subsets of one
    training set for growing ``n`` are nested, so a learning curve adds data and changes nothing else."""
    if n > len(frames):
        raise SplitError(f"asked for {n} frames from a training set of {len(frames)}")
    order = np.random.default_rng(seed).permutation(len(frames))
    return [frames[i] for i in np.sort(order[:n])]


def equal_budget_mix(frames_by_concentration: Mapping[str, Sequence[Atoms]], budget: int) -> list[Atoms]:
    """``budget`` frames drawn in equal parts from each concentration (the remainder from the first ones).

    Used so that a multi-concentration model sees as many frames as a single-concentration one.
    """
    labels = list(frames_by_concentration)
    share, remainder = divmod(budget, len(labels))
    mix: list[Atoms] = []
    for i, label in enumerate(labels):
        mix += evenly_spaced(frames_by_concentration[label], share + (1 if i < remainder else 0))
    return mix
