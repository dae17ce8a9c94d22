"""``terrain fetch`` against hostile networks and mirrors: fails fast, talks, bounded, tidy."""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_util import one_line_error, run_yalu

from yalu.cli.main import cli
from yalu.errors import DownloadError
from yalu.terrain.fetch import fetch_tiles


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def bomb_server(tmp_path: Path) -> Iterator[str]:
    """Serves every Skadi tile as a small gzip that inflates to 64 MiB (a 1" tile is 25 MiB)."""
    body_path = tmp_path / "bomb.gz"
    with gzip.open(body_path, "wb", compresslevel=9) as g:
        for _ in range(64):
            g.write(b"\0" * (1 << 20))
    body = body_path.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_unreachable_network_stops_at_once_and_leaves_no_directories(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for url, why in ((f"http://127.0.0.1:{_free_port()}", "cannot connect"),
                     ("http://no-such-host.invalid", "cannot resolve host")):  # fmt: skip
        t0 = time.perf_counter()
        r = CliRunner().invoke(cli, ["terrain", "fetch", "--bbox", "10,10,13,14", "--source",
                                     "srtm-skadi", "--cache", str(cache), "--base-url", url,
                                     "--backoff", "5"])  # fmt: skip
        assert time.perf_counter() - t0 < 20  # not 12 tiles x 5 retries x backoff
        one_line_error(r, f"{url.split('//')[1]} is unreachable: {why}")
        assert not cache.exists() or list(cache.rglob("*")) == []


def test_progress_per_tile_and_size_refused_up_front(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["terrain", "fetch", "--bbox", "-90,-180,90,180", "--cache",
                                 str(tmp_path / "c")])  # fmt: skip
    msg = one_line_error(r, "64,800 tiles")
    assert "GiB" in msg and "--max-tiles" in msg
    assert not (tmp_path / "c").exists()

    # per-tile lines: two ocean tiles (404 from a local mirror)
    class NotFound(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        r = CliRunner().invoke(cli, ["terrain", "fetch", "--bbox", "10,10,10.5,11.5", "--cache",
                                     str(tmp_path / "c"), "--base-url",
                                     f"http://127.0.0.1:{httpd.server_address[1]}"])  # fmt: skip
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert r.exit_code == 0, r.output
    assert "[1/2]" in r.output and "[2/2]" in r.output and r.output.count(": absent") == 2


def test_bad_cache_and_base_url_are_one_line(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli, ["terrain", "fetch", "--bbox", "10,10,11,11", "--cache", "/dev/null"]
    )
    one_line_error(r, "/dev/null is a device or special file")
    r = CliRunner().invoke(cli, ["terrain", "fetch", "--bbox", "10,10,11,11", "--cache",
                                 str(tmp_path), "--base-url", "notaurl"])  # fmt: skip
    one_line_error(r, "must be an http://, https:// or file:// URL")


def test_decompression_bomb_from_a_mirror_is_rejected(tmp_path: Path, bomb_server: str) -> None:
    with pytest.raises(DownloadError, match="inflates to more than"):
        fetch_tiles((10.2, 10.2, 10.4, 10.4), "srtm-skadi", tmp_path / "c", bomb_server,
                    retries=0)  # fmt: skip
    assert [p for p in (tmp_path / "c").rglob("*") if p.is_file()] == []
    # the same through the CLI, under a memory cap
    r = run_yalu("terrain", "fetch", "--bbox", "10.2,10.2,10.4,10.4", "--source", "srtm-skadi",
                 "--cache", str(tmp_path / "c"), "--base-url", bomb_server, "--retries", "0",
                 mem=1024 * 2**20)  # fmt: skip
    one_line_error(r, "inflates to more than")
