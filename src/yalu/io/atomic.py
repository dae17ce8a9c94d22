"""Atomic outputs: write under a temporary name, check, rename into place only when complete.

A failed or interrupted write never leaves a partial file, and never replaces a good one:

- targets are checked before any work (:func:`check_writable`): not a device, a mount point, the
  current directory or an existing directory where a file is expected; not overlapping an input;
  in a directory that really accepts a new file;
- an output is claimed (:func:`claim_output`): a lock beside it, held by one process, so a second
  yalu writing the same OUTDIR fails at once;
- write errors (a full disk) become :class:`~yalu.errors.OutputError`, one line, and the earlier
  output stays; without ``overwrite`` the final rename never replaces anything that appeared
  meanwhile;
- temporary names carry the writer's pid: ``.NAME.PID.XXXX.part`` (``.old`` for a directory
  being replaced, ``.scratch`` for a run's working files). Those left by a process that no
  longer exists are removed on the next write of the same output (an ``.old`` whose output is
  missing is put back), with a warning.
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yalu.errors import OutputError, OutputExistsError, YaluError, YaluWarning
from yalu.inputs import file_kind

__all__ = [
    "atomic_output",
    "atomic_dir",
    "scratch_dir",
    "check_writable",
    "claim_output",
    "release_claims",
    "clean_stale",
    "StaleOutputWarning",
]

_NAME_MAX = 80  # characters of the output name kept in temporary names (NAME_MAX is 255 bytes)


class StaleOutputWarning(YaluWarning):
    """A temporary output left by a yalu process that no longer exists was cleaned up."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _stem(final: Path) -> str:
    """``.NAME.``, the prefix of the lock and temporary names of ``final``. A name longer
    than :data:`_NAME_MAX` keeps its start and a digest of the whole: two long names that
    share their first characters (a map per layer of a long variant name) then never share
    a lock, which two processes drawing them at once would otherwise contend for."""
    name = final.name
    if len(name) > _NAME_MAX:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = f"{name[: _NAME_MAX - 17]}~{digest}"
    return f".{name}."


def _overlaps(out: Path, inp: Path) -> str | None:
    if out == inp:
        return "is"
    if out in inp.parents:
        return "contains"
    if inp in out.parents:
        return "is inside"
    return None


def _probe_dir(d: Path, final: Path) -> None:
    """Raise OutputError unless a file can be created in ``d`` (or its nearest existing parent)."""
    q = d
    while not q.exists():
        if q.is_symlink():
            raise OutputError(f"cannot write {final}: {q} is a dangling symlink")
        if q.parent == q:
            break
        q = q.parent
    if not q.is_dir():
        raise OutputError(f"cannot write {final}: {q} is not a directory")
    try:
        fd, name = tempfile.mkstemp(prefix=".yalu-probe.", dir=q)
    except OSError as exc:
        raise OutputError(
            f"cannot write {final}: directory {q} is not writable ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    os.unlink(name)


def check_writable(
    path: str | os.PathLike[str],
    overwrite: bool,
    *,
    kind: str = "any",
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    claim: bool = False,
    name: str = "output",
) -> Path:
    """Check that ``path`` may be written, before any work; return it as a Path.

    Parameters
    ----------
    path : path
        The output.
    overwrite : bool
        Whether an existing output may be replaced.
    kind : {"any", "file", "dir"}
        What will be written: an existing directory is refused for a file and vice versa.
    inputs : paths
        Inputs of the same command: the output may not be one of them, contain one or lie inside
        one (``None`` entries are skipped).
    claim : bool
        Also claim the output for this process (:func:`claim_output`) until it exits.
    name : str
        How the output is named in errors (``-o``, ``--png``).

    Raises
    ------
    OutputExistsError
        ``path`` exists (a dangling symlink counts) and not ``overwrite``.
    OutputError
        Any target that can never be written: a device, a FIFO, a mount point, the current
        directory or a parent of it, a directory for a file (or a file for a directory), an
        input, an unwritable or read-only directory; or another process is writing it.
    """
    p = Path(path)
    if p.name in ("", ".", ".."):
        raise OutputError(f"{name} {p}: names a directory by '.' or '..'; give a new name")
    absolute = Path(os.path.abspath(p))
    real = Path(os.path.realpath(p))
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise OutputError(f"{name} {p}: is the current directory or a parent of it")
    for inp in inputs:
        if inp is None:
            continue
        ip = Path(os.path.realpath(inp))
        rel = _overlaps(real, ip) or _overlaps(absolute, Path(os.path.abspath(inp)))
        if rel:
            raise OutputError(f"{name} {p} {rel} the input {inp}: outputs never overwrite inputs")
    if os.path.lexists(p):
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            if not overwrite:
                raise OutputExistsError(p)
        elif not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise OutputError(f"{name} {p}: is {file_kind(st.st_mode)}; yalu writes only files")
        elif stat.S_ISDIR(st.st_mode):
            if os.path.ismount(p):
                raise OutputError(f"{name} {p}: is a mount point; give a directory inside it")
            if kind == "file":
                raise OutputError(f"{name} {p}: is a directory; give a file name")
        elif kind == "dir":
            raise OutputError(f"{name} {p}: is a file; give a directory name")
        if not overwrite:
            raise OutputExistsError(p)
    _probe_dir(absolute.parent, p)
    if claim:
        claim_output(p)
    return p


# ------------------------------------------------------------------------------------ claiming

_HELD: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth)


def _lock_path(final: Path) -> Path:
    return Path(os.path.abspath(final)).parent / f"{_stem(final)}lock"


def _acquire(final: Path) -> bool:
    """Take the lock of ``final`` (again, if this process holds it); False without locks."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no advisory locks on this platform
        return False
    lp = _lock_path(final)
    key = str(lp)
    if key in _HELD:
        fd, depth = _HELD[key]
        _HELD[key] = (fd, depth + 1)
        return True
    lp.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot claim {final}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            who = f" (pid {other})" if other else ""
            raise OutputError(
                f"{final} is being written by another yalu process{who}; wait for it or choose "
                "another output"
            ) from None
        # the holder before us may have removed the file after we opened it: lock the live one
        try:
            same = os.stat(lp).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[key] = (fd, 1)
    return True


def _release(final: Path, force: bool = False) -> None:
    key = str(_lock_path(final))
    if key not in _HELD:
        return
    fd, depth = _HELD[key]
    if depth > 1 and not force:
        _HELD[key] = (fd, depth - 1)
        return
    del _HELD[key]
    try:
        os.unlink(key)
    except OSError:
        pass
    os.close(fd)


@atexit.register
def release_claims() -> None:
    """Release every output claimed by this process (done at exit in any case)."""
    for key in list(_HELD):
        fd, _depth = _HELD.pop(key)
        try:
            os.unlink(key)
        except OSError:
            pass
        os.close(fd)


def claim_output(path: str | os.PathLike[str]) -> None:
    """Claim ``path`` for this process until it exits (re-entrant).

    The claim is an advisory lock on ``.NAME.lock`` beside the output: the kernel drops it when
    the process ends, however it ends, so a killed run never blocks the next one.

    Raises
    ------
    OutputError
        Another process holds the claim.
    """
    final = Path(path)
    _acquire(final)
    clean_stale(final)


@contextmanager
def _claimed(final: Path) -> Iterator[None]:
    _acquire(final)
    try:
        yield
    finally:
        _release(final)


# --------------------------------------------------------------------------------- stale files

_TEMP_RE = re.compile(r"^\.(?P<name>.*)\.(?P<pid>\d+)\.[^.]+\.(?P<what>part|old|scratch)$")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def clean_stale(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of ``path`` left by yalu processes that no longer exist.

    A ``.old`` (a directory being replaced when its writer died) is moved back into place when
    the output itself is missing. Each action is reported as a :class:`StaleOutputWarning`.

    Returns
    -------
    list of Path
        The entries removed or restored.
    """
    final = Path(path)
    parent = Path(os.path.abspath(final)).parent
    stem = _stem(final)
    done: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return done
    for e in entries:
        if not e.name.startswith(stem):
            continue
        m = _TEMP_RE.match(e.name)
        if m is None or f".{m.group('name')}." != stem:
            continue
        pid = int(m.group("pid"))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        q = parent / e.name
        if m.group("what") == "old" and not os.path.lexists(final):
            os.replace(q, final)
            msg = f"restored {final} from {q.name}, left by yalu process {pid} that was killed"
        else:
            _remove(q)
            msg = f"removed {q}, left by yalu process {pid} that no longer runs"
        warnings.warn(msg, StaleOutputWarning, stacklevel=3)
        done.append(q)
    return done


# ------------------------------------------------------------------------------------- writing


def _write_error(final: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        reason += " (the disk or the file size limit is full)"
    return OutputError(f"cannot write {final}: {reason}; nothing was replaced")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _place_file(tmp: Path, final: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # atomic and never replaces: a file that appeared meanwhile stays
    except FileExistsError:
        raise OutputExistsError(final) from None
    except OSError:  # no hard links here (some network and FAT file systems)
        if os.path.lexists(final):
            raise OutputExistsError(final) from None
        os.replace(tmp, final)
        return
    tmp.unlink()


@contextmanager
def atomic_output(
    path: str | os.PathLike[str],
    overwrite: bool = False,
    verify: Callable[[Path], Any] | None = None,
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success check it and rename it onto ``path``.

    Parameters
    ----------
    path : path
        The output file.
    overwrite : bool
        Replace an existing ``path``; otherwise :class:`OutputExistsError` (also when the file
        appears while this one is written).
    verify : callable, optional
        Called with the temporary path once written and flushed to disk; it raises if the
        content is not what was meant (read back). Nothing is replaced when it raises.

    On any exception (KeyboardInterrupt included) the temporary file is removed and ``path`` is
    left as it was. Write errors (a full disk) raise :class:`OutputError`.
    """
    final = check_writable(path, overwrite, kind="file")
    with _claimed(final):
        clean_stale(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                prefix=f"{_stem(final)}{os.getpid()}.", suffix=".part", dir=final.parent
            )
            os.close(fd)
        except OSError as exc:
            raise _write_error(final, exc) from None
        tmp = Path(tmp_name)
        try:
            try:
                yield tmp
                if not tmp.is_file():
                    raise OutputError(f"cannot write {final}: the writer left no file")
                _fsync(tmp)
                if verify is not None:
                    verify(tmp)
                # mkstemp makes the file private; the output gets the usual mode
                os.chmod(tmp, 0o666 & ~_umask())
                _place_file(tmp, final, overwrite)
            except OSError as exc:
                if isinstance(exc, YaluError):
                    raise
                raise _write_error(final, exc) from exc
        except BaseException:
            _remove(tmp)
            raise


@contextmanager
def atomic_dir(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success move it onto ``path``.

    An existing ``path`` (allowed only with ``overwrite``) is replaced only after the new content is
    complete: it is renamed aside, the new directory renamed in, then the old one removed. The
    output is claimed (:func:`claim_output`) while it is written.
    """
    final = check_writable(path, overwrite, kind="dir")
    with _claimed(final):
        clean_stale(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(
                tempfile.mkdtemp(
                    prefix=f"{_stem(final)}{os.getpid()}.", suffix=".part", dir=final.parent
                )
            )
        except OSError as exc:
            raise _write_error(final, exc) from None
        try:
            try:
                yield tmp
            except OutputError as exc:
                # name the output the user asked for, not the temporary directory
                raise OutputError(str(exc).replace(str(tmp), str(final))) from exc
            except OSError as exc:
                if isinstance(exc, YaluError):
                    raise
                raise _write_error(final, exc) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            _place_dir(tmp, final, overwrite)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, YaluError):
                raise _write_error(final, exc) from exc
            raise


@contextmanager
def scratch_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new private directory beside the output ``path`` for a run's working files;
    it is removed on exit, whatever happens (one left by a killed process is removed by the
    next :func:`clean_stale` of ``path``).

    Beside the output, not in the system's temporary directory: that may be a RAM disk, and the
    user chose the output's disk for the run's data.
    """
    final = Path(os.path.abspath(path))
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_stem(final)}{os.getpid()}.", suffix=".scratch",
                                    dir=final.parent))  # fmt: skip
    except OSError as exc:
        raise _write_error(final, exc) from None
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _place_dir(tmp: Path, final: Path, overwrite: bool) -> None:
    os.chmod(tmp, 0o777 & ~_umask())
    old: Path | None = None
    if os.path.lexists(final):
        if not overwrite:
            raise OutputExistsError(final)
        old = Path(
            tempfile.mkdtemp(
                prefix=f"{_stem(final)}{os.getpid()}.", suffix=".old", dir=final.parent
            )
        )
        old.rmdir()
        os.replace(final, old)
    try:
        os.rename(tmp, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        _remove(old)
