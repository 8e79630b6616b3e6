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


def split_counts(n_frames: int, fractions: Mapping[str, float], gap_frames: int = 0) -> dict[str, int]:
    """Frames in each contiguous block of :func:`time_block_split`. A ``test`` fraction of 0 makes no test
    block (the test set is an independent trajectory) and drops the gap before it."""
    total = sum(fractions[s] for s in SPLITS)
    if not np.isclose(total, 1.0):
        raise SplitError(f"split fractions must add up to 1, got {total}")
    blocks = [s for s in SPLITS if fractions[s] > 0]
    usable = n_frames - gap_frames * (len(blocks) - 1)
    counts = {s: int(np.floor(fractions[s] * usable)) for s in SPLITS}
    counts["train"] = usable - counts["valid"] - counts["test"]
    empty = [s for s in blocks if counts[s] < 1]
    if empty:
        raise SplitError(
            f"{n_frames} frames (gap {gap_frames}) leave the {', '.join(empty)} split empty; "
            "run longer AIMD or lower the stride"
        )
    return counts


def time_block_split(
    frames: Sequence[Atoms], fractions: Mapping[str, float], gap_frames: int = 0
) -> dict[str, list[Atoms]]:
    """Split frames in time order into contiguous train / valid / test blocks.

    ``fractions`` gives each block's share of the frames left after the gaps; ``gap_frames`` frames are
    dropped between train and valid and between valid and test (no test block for a test fraction of 0).
    """
    counts = split_counts(len(frames), fractions, gap_frames)
    valid_start = counts["train"] + gap_frames
    test_start = valid_start + counts["valid"] + gap_frames
    return {
        "train": list(frames[: counts["train"]]),
        "valid": list(frames[valid_start : valid_start + counts["valid"]]),
        "test": list(frames[test_start : test_start + counts["test"]]),
    }


def prefix(frames: Sequence[Atoms], n: int) -> list[Atoms]:
    """The first ``n`` frames of a training block: what an AIMD run for that long would have given (the
    learning curves' subsets, nested by construction and charged pro rata)."""
    if n > len(frames):
        raise SplitError(f"asked for {n} frames from a training set of {len(frames)}")
    return list(frames[:n])


def bootstrap_resample(frames: Sequence[Atoms], seed: int) -> list[Atoms]:
    """As many frames as given, drawn with replacement (seeded), in time order: one committee member's
    training set when members differ in their data as well as their seed."""
    index = np.sort(np.random.default_rng(seed).integers(0, len(frames), len(frames)))
    return [frames[i] for i in index]


def equal_budget_mix(frames_by_concentration: Mapping[str, Sequence[Atoms]], budget: int) -> list[Atoms]:
    """``budget`` frames in equal parts from each concentration (the remainder from the first ones), each
    part the first frames of that concentration's block.

    A multi-concentration model so sees as many frames as a single-concentration one, and each part is
    what a correspondingly shorter AIMD would have given (charged pro rata, as the learning curves are).
    """
    shares = equal_shares(budget, len(frames_by_concentration))
    mix: list[Atoms] = []
    for share, frames in zip(shares, frames_by_concentration.values(), strict=True):
        mix += prefix(frames, share)
    return mix


def equal_shares(budget: int, parts: int) -> list[int]:
    """``budget`` in ``parts`` equal whole shares, the remainder one each to the first ones."""
    share, remainder = divmod(budget, parts)
    return [share + (i < remainder) for i in range(parts)]
