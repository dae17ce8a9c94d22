import pytest

from yalu.errors import OutputExistsError
from yalu.io.atomic import atomic_dir, atomic_output


def test_atomic_output_writes_and_renames(tmp_path):
    out = tmp_path / "a.txt"
    with atomic_output(out) as tmp:
        assert tmp != out
        tmp.write_text("new")
        assert not out.exists()
    assert out.read_text() == "new"
    assert list(tmp_path.iterdir()) == [out]


def test_atomic_output_refuses_existing(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("good")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        with atomic_output(out):
            pass
    assert out.read_text() == "good"


def test_atomic_output_failure_keeps_good_file(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("good")
    with pytest.raises(RuntimeError):
        with atomic_output(out, overwrite=True) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert out.read_text() == "good"
    assert list(tmp_path.iterdir()) == [out]


def test_atomic_dir_replaces_only_when_complete(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(out, overwrite=True) as tmp:
            (tmp / "new.txt").write_text("new")
            raise KeyboardInterrupt
    assert (out / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with atomic_dir(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_outputs_get_umask_modes(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "f.txt") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "g.txt").write_text("y")
    finally:
        os.umask(mask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
