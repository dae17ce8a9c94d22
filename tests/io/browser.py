"""Headless Chromium for the interactive report: load a page with no network, read the DOM,
the console and a screenshot.

Every request the browser makes goes to a proxy started here on 127.0.0.1, which answers 502
and records it (Chromium's own update, time and sign-in requests are set apart), and host names
resolve nowhere: a page that reaches out is caught.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("no Chromium on PATH (Debian package 'chromium'; .ci/run installs it)")
    raise AssertionError  # unreachable


class _Proxy(BaseHTTPRequestHandler):
    seen: list[str]

    def _any(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        self.send_error(502)

    do_GET = do_POST = do_HEAD = do_CONNECT = do_PUT = do_OPTIONS = _any  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class PageResult:
    dom: str
    console: list[str]
    requests: list[str]
    screenshot: Path | None = None
    stderr: str = field(default="", repr=False)

    @property
    def root_tag(self) -> str:
        """The ``<html ...>`` start tag (the page marks ready and errors on it)."""
        m = re.search(r"<html[^>]*>", self.dom)
        return m.group(0) if m else ""

    def element_text(self, element_id: str) -> str:
        m = re.search(rf'<(\w+) id="{element_id}"[^>]*>(.*?)</\1>', self.dom, re.S)
        return m.group(2) if m else ""


def load(
    page: Path,
    fragment: str = "",
    *,
    screenshot: bool = False,
    size: str = "1300,1000",
    budget_ms: int = 10000,
) -> PageResult:
    """Open ``page#fragment`` in headless Chromium; the DOM after scripts ran, console lines,
    requests that reached the proxy and optionally a screenshot."""
    exe = chromium()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    srv.seen = []  # type: ignore[attr-defined]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        with tempfile.TemporaryDirectory() as prof:
            url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
            base = [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--disable-extensions",
                "--disable-client-side-phishing-detection",
                "--disable-domain-reliability",
                "--no-pings",
                "--metrics-recording-only",
                "--safebrowsing-disable-auto-update",
                "--disable-component-extensions-with-background-pages",
                "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,"
                "Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
                "SigninInterceptBubbleV2,ChromeSigninIntercept",
                f"--user-data-dir={prof}",
                f"--proxy-server=http://127.0.0.1:{srv.server_port}",
                "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--enable-logging=stderr",
                "--v=0",
                f"--virtual-time-budget={budget_ms}",
                f"--window-size={size}",
            ]
            shot = Path(prof) / "shot.png"
            extra = [f"--screenshot={shot}"] if screenshot else ["--dump-dom"]
            r = subprocess.run(base + extra + [url], capture_output=True, text=True, timeout=120)
            out = None
            if screenshot:
                assert shot.is_file(), r.stderr[-2000:]
                out = Path(tempfile.mkdtemp()) / "shot.png"
                shutil.copy(shot, out)
    finally:
        srv.shutdown()
        srv.server_close()
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    page_requests = [q for q in srv.seen if not _BROWSER_OWN.match(q)]  # type: ignore[attr-defined]
    return PageResult(r.stdout, console, page_requests, out, r.stderr)


#: Chromium's own service requests, seen with an empty page whatever the flags: the component
#: updater, network time and sign-in; Debian's Chromium 150 also opens www.google.com:443 five
#: times (tests/io/test_browser_harness.py loads an empty page to keep this list honest).
#: Anything else that reaches the proxy came from the page.
_BROWSER_OWN = re.compile(
    r"^(CONNECT (update\.googleapis\.com|accounts\.google\.com|www\.google\.com):443"
    r"|POST http://update\.googleapis\.com/service/update2/"
    r"|GET http://clients2\.google\.com/time/)"
)
