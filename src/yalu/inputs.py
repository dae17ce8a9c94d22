"""Bounded input (``yalu.inputs``): every file yalu reads is checked before it is read.

- Only regular files are read (a FIFO would block forever, ``/dev/zero`` never ends), and only up
  to a stated size.
- Text is UTF-8, with or without a byte-order mark; other bytes are one error naming the file and
  the line.
- Compressed data is inflated in a stream that stops at a stated size (a 4 MB ``.gz`` can hold
  4 GiB).
- YAML is checked event by event before it is composed: nesting depth and the size after alias
  expansion are limited (a 1 KB "billion laughs" file expands to gigabytes).
- Work proportional to a requested size (map nodes, profile points, tiles) is checked against a
  limit before anything is allocated, and the error states the cost.
"""

from __future__ import annotations

import gzip
import os
import stat
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from yalu.errors import InputError, ParameterError

__all__ = [
    "MAX_TEXT_BYTES",
    "MAX_YAML_NODES",
    "MAX_YAML_DEPTH",
    "InputTooLargeError",
    "check_regular_file",
    "file_kind",
    "open_regular",
    "read_bytes_capped",
    "read_text_capped",
    "decode_text",
    "gunzip_capped",
    "unzip_capped",
    "check_yaml_bounds",
    "check_cost",
    "fmt_bytes",
]

MAX_TEXT_BYTES = 256 * 2**20
"""Default cap of a text input (scenario, CSV, GeoJSON) [bytes]."""
MAX_YAML_NODES = 5_000_000
"""Most YAML nodes after alias expansion (a 100,000-site scenario has about 2 million)."""
MAX_YAML_DEPTH = 64
"""Deepest YAML nesting (scenarios need fewer than 10 levels)."""


class InputTooLargeError(InputError):
    """An input exceeds a stated size limit."""


def fmt_bytes(n: float) -> str:
    """``n`` bytes in human units (B, KiB, MiB, GiB, TiB)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def file_kind(mode: int) -> str:
    """What a non-regular file is, for error messages ("a FIFO (named pipe)", ...), from its
    ``st_mode``."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(path: str | os.PathLike[str], what: str = "input") -> os.stat_result:
    """Return ``os.stat`` of ``path``; raise :class:`InputError` unless it is a regular file."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"{what} {p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what} {p}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {p}: {file_kind(st.st_mode)}, not a regular file")
    return st


def open_regular(p: Path, what: str = "input") -> tuple[BinaryIO, int]:
    """Open a regular file for reading (never blocking on a FIFO); return it and its size."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{what} {p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what} {p}: cannot read ({exc.strerror or exc})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(f"{what} {p}: {file_kind(st.st_mode)}, not a regular file")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), int(st.st_size)


def read_bytes_capped(
    path: str | os.PathLike[str], max_bytes: int = MAX_TEXT_BYTES, what: str = "input"
) -> bytes:
    """Read a regular file of at most ``max_bytes``; :class:`InputTooLargeError` otherwise."""
    p = Path(path)
    f, size = open_regular(p, what)
    with f:
        if size > max_bytes:
            raise InputTooLargeError(
                f"{what} {p}: {fmt_bytes(size)} exceeds the limit of {fmt_bytes(max_bytes)}"
            )
        try:
            data = f.read(max_bytes + 1)  # the file may grow while it is read
        except OSError as exc:
            raise InputError(f"{what} {p}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputTooLargeError(f"{what} {p}: exceeds the limit of {fmt_bytes(max_bytes)}")
    return data


def decode_text(raw: bytes, name: str) -> str:
    """Decode UTF-8 (an optional byte-order mark is dropped); NUL bytes are refused.

    Raises
    ------
    InputError
        Naming ``name``, the line and the column of the first bad byte.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start : exc.start + 1]
        raise InputError(
            f"{name}: line {line}, column {col}: byte 0x{bad.hex()} is not UTF-8 "
            "(save the file as UTF-8)"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputError(f"{name}: line {line}: NUL byte: not a text file")
    return text


def read_text_capped(
    path: str | os.PathLike[str],
    max_bytes: int = MAX_TEXT_BYTES,
    what: str = "input",
    name: str | None = None,
) -> str:
    """Read a regular UTF-8 text file of at most ``max_bytes`` (see :func:`decode_text`)."""
    p = Path(path)
    return decode_text(read_bytes_capped(p, max_bytes, what), name or str(p))


def _read_stream_capped(f: Any, max_bytes: int, label: str) -> bytes:
    chunks = []
    n = 0
    while True:
        chunk = f.read(min(1 << 20, max_bytes + 1 - n))
        if not chunk:
            break
        chunks.append(chunk)
        n += len(chunk)
        if n > max_bytes:
            raise InputTooLargeError(
                f"{label}: inflates to more than {fmt_bytes(max_bytes)} (the limit)"
            )
    return b"".join(chunks)


def gunzip_capped(path: str | os.PathLike[str], max_bytes: int, what: str = "input") -> bytes:
    """Inflate a gzip file in a stream, refusing more than ``max_bytes`` of output.

    Raises
    ------
    InputTooLargeError
        The data inflates beyond ``max_bytes``.
    OSError, EOFError
        Corrupt or truncated gzip data (as :mod:`gzip` raises them).
    """
    p = Path(path)
    f, _size = open_regular(p, what)
    with f, gzip.GzipFile(fileobj=f, mode="rb") as g:
        return _read_stream_capped(g, max_bytes, f"{what} {p}")


def unzip_capped(
    path: str | os.PathLike[str], member_suffix: str, max_bytes: int, what: str = "input"
) -> bytes:
    """The first member of a zip archive ending in ``member_suffix``, inflated with a cap.

    The declared size is checked first, and the stream is capped too (the header may lie).
    """
    p = Path(path)
    f, _size = open_regular(p, what)
    with f, zipfile.ZipFile(f) as z:
        infos = [i for i in z.infolist() if i.filename.lower().endswith(member_suffix)]
        if not infos:
            raise InputError(f"{what} {p}: zip archive holds no {member_suffix} file")
        info = infos[0]
        if info.file_size > max_bytes:
            raise InputTooLargeError(
                f"{what} {p}: {info.filename} inflates to {fmt_bytes(info.file_size)}, more "
                f"than the limit of {fmt_bytes(max_bytes)}"
            )
        with z.open(info) as m:
            return _read_stream_capped(m, max_bytes, f"{what} {p}")


def check_yaml_bounds(
    text: str,
    name: str,
    max_nodes: int = MAX_YAML_NODES,
    max_depth: int = MAX_YAML_DEPTH,
) -> None:
    """Refuse YAML nested deeper than ``max_depth`` or larger than ``max_nodes`` once expanded.

    Walks the parser's events (no recursion, no object built) and counts, for every anchor, the
    nodes of its subtree with its own aliases expanded, so the expanded size of the document is
    known in time linear in the text.

    Raises
    ------
    InputTooLargeError
        Naming the line, the limit and the size reached.
    """
    import yaml

    anchors: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, expanded descendants so far] per open collection
    total = 0

    def add(n: int, line: int) -> None:
        nonlocal total
        total += n
        if stack:
            stack[-1][1] += n
        if total > max_nodes:
            raise InputTooLargeError(
                f"{name}: line {line}: more than {max_nodes:,} YAML nodes once aliases are "
                "expanded (the limit; an alias bomb?)"
            )

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml: same events, faster
    try:
        while True:
            ev = loader.get_event()  # type: ignore[no-untyped-call]
            if ev is None:
                break
            line = ev.start_mark.line + 1 if ev.start_mark is not None else 0
            if isinstance(ev, yaml.CollectionStartEvent):
                if len(stack) >= max_depth:
                    raise InputTooLargeError(
                        f"{name}: line {line}: nested deeper than {max_depth} levels (the limit)"
                    )
                add(1, line)  # the collection itself, in its parent
                stack.append([ev.anchor, 0])
            elif isinstance(ev, yaml.CollectionEndEvent):
                anchor, count = stack.pop()
                if anchor is not None:
                    anchors[anchor] = count + 1
                if stack:
                    stack[-1][1] += count  # already in the total
            elif isinstance(ev, yaml.ScalarEvent):
                if ev.anchor is not None:
                    anchors[ev.anchor] = 1
                add(1, line)
            elif isinstance(ev, yaml.AliasEvent):
                add(anchors.get(ev.anchor or "", 1), line)
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]


def check_cost(
    name: str,
    value: Any,
    nodes: float,
    max_nodes: float,
    what: str,
    bytes_per_node: float | None = None,
    option: str = "--max-nodes",
) -> None:
    """Refuse work of ``nodes`` nodes beyond ``max_nodes``, stating the cost.

    Parameters
    ----------
    name, value : the parameter the user gave that sets the size, and its value
    nodes : the number of nodes (points, cells) the request needs
    max_nodes : the limit
    what : what the nodes are ("map nodes", "profile points", ...)
    bytes_per_node : memory (or disk) per node, to state the cost in bytes
    option : the option that raises the limit
    """
    if nodes <= max_nodes:
        return
    cost = f"{nodes:,.0f} {what}"
    if bytes_per_node:
        cost += f", about {fmt_bytes(nodes * bytes_per_node)}"
    raise ParameterError(
        name, value, f"a request within {option} {max_nodes:,.0f}", detail=f"it needs {cost}"
    )
