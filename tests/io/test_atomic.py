import pytest

from yalu.errors import OutputError, OutputExistsError
from yalu.io.atomic import _stem, atomic_dir, atomic_output


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


def test_long_names_sharing_a_prefix_do_not_share_a_claim(tmp_path):
    """Two outputs whose names share their first 80 characters (a PNG map per layer of a long
    variant name) are written by two processes at once: each has its own claim."""
    import subprocess
    import sys

    base = "v" * 120
    a, b = tmp_path / f"{base}_p_sms.png", tmp_path / f"{base}_p_data.png"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from yalu.io.atomic import claim_output; "
         "claim_output(sys.argv[1]); print('held', flush=True); time.sleep(30)", str(a)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with atomic_output(b) as tmp:  # another process holds a's claim
            tmp.write_text("b")
        assert b.read_text() == "b"
        # a itself stays claimed by the other process
        with pytest.raises(OutputError, match="another yalu process"):
            with atomic_output(a):
                pass
    finally:
        holder.kill()
        holder.wait()
    with atomic_output(a) as tmp:  # the claim went with the process
        tmp.write_text("a")
    assert a.read_text() == "a"
    # names within the limit keep their plain prefix
    assert _stem(tmp_path / "short.png") == ".short.png."
    long_a, long_b = _stem(a), _stem(b)
    assert long_a != long_b and len(long_a) == len(long_b) == 82
