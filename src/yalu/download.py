"""Download files from a public bucket into a local cache that mirrors its layout.

Shared by ``yalu terrain fetch`` (:mod:`yalu.terrain.fetch`) and ``yalu landcover fetch``
(:mod:`yalu.landcover.fetch`). For every requested file, relative to both the base URL and the
cache directory:

- a file already in the cache is reused, a recorded ``<file>.absent`` marker too;
- otherwise it is downloaded to a temporary name in its final directory, its length checked
  against ``Content-Length``, then the caller's validator runs on it, and only then is it renamed
  into place: a truncated or corrupt file never stays;
- HTTP 404 records ``<file>.absent`` (tiles that do not exist upstream, e.g. open sea);
- 5xx, timeouts, dropped connections, truncated or invalid bodies are retried with exponential
  backoff;
- an unreachable host (name resolution fails, connection refused, network unreachable) is not
  retried and stops the whole run at once: offline, the command fails in well under a second
  instead of waiting out every retry of every file.
"""

from __future__ import annotations

import errno
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from yalu.errors import DownloadError, YaluError, check_range

__all__ = ["ABSENT_SUFFIX", "DownloadReport", "InvalidDownload", "download_files", "USER_AGENT"]

ABSENT_SUFFIX = ".absent"
USER_AGENT = "yalu-fetch (+https://github.com/) urllib"

# errno values meaning "no route to the server at all"
_UNREACHABLE = {
    errno.ECONNREFUSED,
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.EADDRNOTAVAIL,
}


class InvalidDownload(YaluError, ValueError):
    """Raised by a validator: the downloaded body is not a valid file of the expected kind."""


@dataclass
class DownloadReport:
    """Outcome of :func:`download_files`: paths relative to the cache, by what happened."""

    cache_dir: Path
    downloaded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    bytes_downloaded: int = 0


class _Unreachable(Exception):
    pass


def _unreachable_reason(exc: BaseException) -> str | None:
    """A description when ``exc`` means the host cannot be reached at all, else None."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host ({reason})"
    if isinstance(reason, OSError) and reason.errno in _UNREACHABLE:
        return f"cannot connect ({reason.strerror or reason})"
    return None


def _download_once(url: str, dest: Path, timeout_s: float, max_bytes: int | None) -> int:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        expected = resp.headers.get("Content-Length")
        if max_bytes is not None and expected is not None and int(expected) > max_bytes:
            raise InvalidDownload(f"{expected} bytes exceeds the {max_bytes}-byte limit")
        n = 0
        with open(dest, "wb") as f:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                n += len(chunk)
                if max_bytes is not None and n > max_bytes:
                    raise InvalidDownload(f"body exceeds the {max_bytes}-byte limit")
                f.write(chunk)
    if expected is not None and n != int(expected):
        raise InvalidDownload(f"truncated body: {n} of {expected} bytes")
    return n


def download_files(
    relpaths: Sequence[str],
    base_url: str,
    cache_dir: str | os.PathLike[str],
    validate: Callable[[str, Path], None],
    *,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    max_bytes: int | None = None,
    progress: Callable[[str, str], None] | None = None,
    what: str = "file",
) -> DownloadReport:
    """Fetch ``base_url/rel`` into ``cache_dir/rel`` for each ``rel`` (see the module doc).

    Parameters
    ----------
    relpaths : sequence of str
        Paths relative to ``base_url`` and ``cache_dir`` ("/"-separated).
    base_url : str
        URL prefix (no trailing slash needed).
    cache_dir : path
        Cache root.
    validate : callable
        ``validate(rel, path)`` raises :class:`InvalidDownload` (or any YaluError/ValueError)
        when the downloaded ``path`` is not a valid ``rel``.
    retries : int
        Further attempts after a failed one.
    backoff_s : float
        First wait between attempts [s]; doubles each time.
    timeout_s : float
        Socket timeout of each attempt [s].
    max_bytes : int, optional
        Refuse bodies larger than this.
    progress : callable, optional
        ``progress(rel, status)``, status "downloaded", "reused", "absent" or "failed".
    what : str
        Noun for messages ("tile").

    Raises
    ------
    DownloadError
        Some file failed after all retries (the others are fetched first), or the host is
        unreachable (raised at once).
    """
    check_range("retries", retries, 0, 100)
    check_range("timeout_s", timeout_s, 0, None, lo_inclusive=False)
    check_range("backoff_s", backoff_s, 0, None)
    root = Path(cache_dir)
    base = base_url.rstrip("/")
    report = DownloadReport(cache_dir=root)
    for rel in relpaths:
        final = root / rel
        marker = final.with_name(final.name + ABSENT_SUFFIX)
        if final.exists():
            report.reused.append(rel)
            status = "reused"
        elif marker.exists():
            report.absent.append(rel)
            status = "absent"
        else:
            try:
                status = _fetch_one(
                    f"{base}/{rel}", rel, final, marker, validate, retries, backoff_s,
                    timeout_s, max_bytes, report, what,
                )  # fmt: skip
            except _Unreachable as exc:
                host = urllib.parse.urlsplit(base).netloc or base
                raise DownloadError(
                    f"{host} is unreachable: {exc} (offline? use --base-url for a mirror); "
                    f"{len(report.downloaded)} {what}(s) fetched before stay in {root}"
                ) from None
        if progress is not None:
            progress(rel, status)
    if report.failed:
        first = next(iter(report.failed.items()))
        raise DownloadError(
            f"{len(report.failed)} {what}(s) failed after {retries + 1} attempts, e.g. "
            f"{first[0]}: {first[1]} (from {base}); {what}s already fetched stay in {root}"
        )
    return report


def _fetch_one(
    url: str,
    rel: str,
    final: Path,
    marker: Path,
    validate: Callable[[str, Path], None],
    retries: int,
    backoff_s: float,
    timeout_s: float,
    max_bytes: int | None,
    report: DownloadReport,
    what: str,
) -> str:
    made = [d for d in (final.parent, *final.parent.parents) if not d.exists()]
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _attempts(url, rel, final, marker, validate, retries, backoff_s, timeout_s,
                         max_bytes, report, what)  # fmt: skip
    finally:
        for d in made:  # no empty directories stay behind a failed or unreachable download
            try:
                d.rmdir()
            except OSError:
                break


def _attempts(
    url: str,
    rel: str,
    final: Path,
    marker: Path,
    validate: Callable[[str, Path], None],
    retries: int,
    backoff_s: float,
    timeout_s: float,
    max_bytes: int | None,
    report: DownloadReport,
    what: str,
) -> str:
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            report.retries += 1
            time.sleep(backoff_s * 2 ** (attempt - 1))
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            n = _download_once(url, tmp, timeout_s, max_bytes)
            validate(rel, tmp)
            os.replace(tmp, final)
            report.downloaded.append(rel)
            report.bytes_downloaded += n
            return "downloaded"
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                marker.write_text(f"404 {url}\n")
                report.absent.append(rel)
                return "absent"
            last = f"HTTP {exc.code}"
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
            OSError,
        ) as exc:
            why = _unreachable_reason(exc)
            if why is not None:
                raise _Unreachable(why) from exc
            last = f"{type(exc).__name__}: {exc}"
        except (YaluError, ValueError) as exc:
            last = f"invalid {what}: {exc}"
        finally:
            tmp.unlink(missing_ok=True)
    report.failed[rel] = last
    return "failed"
