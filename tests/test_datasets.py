import pytest
from ase import Atoms

from mlip_transfer.datasets import SplitError, equal_budget_mix, evenly_spaced, nested_subset, time_block_split


def frames(n, label="a"):
    return [Atoms("H", info={"i": i, "label": label}) for i in range(n)]


def ids(fs):
    return [f.info["i"] for f in fs]


def test_split_is_contiguous_in_time_order_with_gaps():
    split = time_block_split(frames(24), {"train": 0.6, "valid": 0.2, "test": 0.2}, gap_frames=2)
    assert ids(split["train"]) == list(range(0, 12))
    assert ids(split["valid"]) == list(range(14, 18))
    assert ids(split["test"]) == list(range(20, 24))


def test_empty_split_is_refused():
    with pytest.raises(SplitError, match="valid, test split empty"):
        time_block_split(frames(3), {"train": 0.8, "valid": 0.1, "test": 0.1})


def test_fractions_must_add_to_one():
    with pytest.raises(SplitError, match="add up to 1"):
        time_block_split(frames(10), {"train": 0.8, "valid": 0.1, "test": 0.2})


def test_equal_budget_mix_draws_equal_shares_across_the_whole_trajectory():
    mix = equal_budget_mix({"a": frames(30, "a"), "b": frames(10, "b"), "c": frames(20, "c")}, 10)
    labels = [f.info["label"] for f in mix]
    assert len(mix) == 10 and labels.count("a") == 4 and labels.count("b") == 3 and labels.count("c") == 3
    assert ids(evenly_spaced(frames(10), 3)) == [0, 4, 9]  # i.e. rounded linspace(0, 9, 3)


def test_frame_budgets_are_nested_subsets_in_time_order():
    pool = frames(40)
    small, large = ids(nested_subset(pool, 5, seed=3)), ids(nested_subset(pool, 20, seed=3))
    assert len(small) == 5 and len(large) == 20 and set(small) < set(large)
    assert small == sorted(small) and large == sorted(large)
    assert ids(nested_subset(pool, 5, seed=4)) != small  # the seed chooses the frames
    with pytest.raises(SplitError, match="41 frames from a training set of 40"):
        nested_subset(pool, 41, seed=3)
