import pytest

from mlip_transfer.files import atomic_path


def test_output_appears_only_when_complete(tmp_path):
    target = tmp_path / "table.csv"
    with atomic_path(target) as path:
        path.write_text("a,b\n")
        assert path.suffix == ".csv" and not target.exists()  # the suffix stays: formats are recognised
    assert target.read_text() == "a,b\n" and list(tmp_path.iterdir()) == [target]


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "table.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as path:
        path.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
