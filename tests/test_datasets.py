import pytest
from ase import Atoms

from mlip_transfer.reference.splits import (
    SplitError,
    bootstrap_resample,
    equal_budget_mix,
    prefix,
    split_counts,
    time_block_split,
)


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


def test_no_test_block_when_the_test_set_is_its_own_trajectory():
    split = time_block_split(frames(24), {"train": 0.75, "valid": 0.25, "test": 0.0}, gap_frames=2)
    assert ids(split["train"]) == list(range(0, 17)) and ids(split["valid"]) == list(range(19, 24))
    assert split["test"] == [] and split_counts(24, {"train": 0.75, "valid": 0.25, "test": 0.0}, 2)["test"] == 0


def test_equal_budget_mix_takes_equal_first_shares():
    mix = equal_budget_mix({"a": frames(30, "a"), "b": frames(10, "b"), "c": frames(20, "c")}, 10)
    labels = [f.info["label"] for f in mix]
    assert len(mix) == 10 and labels.count("a") == 4 and labels.count("b") == 3 and labels.count("c") == 3
    # what a shorter AIMD of each concentration would have given: its first frames
    assert ids(mix) == [0, 1, 2, 3, 0, 1, 2, 0, 1, 2]


def test_frame_budgets_are_prefixes_of_the_training_block():
    pool = frames(40)
    small, large = ids(prefix(pool, 5)), ids(prefix(pool, 20))
    assert small == list(range(5)) and large == list(range(20)) and set(small) < set(large)
    with pytest.raises(SplitError, match="41 frames from a training set of 40"):
        prefix(pool, 41)


def test_a_committee_resample_draws_with_replacement_in_time_order():
    pool = frames(50)
    first, again, other = (ids(bootstrap_resample(pool, seed)) for seed in (8, 8, 9))
    assert len(first) == 50 and first == sorted(first) and first == again and first != other
    assert len(set(first)) < 50  # with replacement: some frames twice, some not at all
