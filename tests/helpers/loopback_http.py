"""A real HTTP server on 127.0.0.1 with scripted responses per path, for download tests."""

from __future__ import annotations

import http.server
import threading
import time
from collections import defaultdict

__all__ = ["TileServer"]


class TileServer:
    """Scripted responses per path: each request takes the next action; the last one repeats."""

    def __init__(self) -> None:
        self.script: dict[str, list[tuple]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # type: ignore[no-untyped-def]
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.lstrip("/")
                server.hits[path] += 1
                actions = server.script.get(path, [("status", 404)])
                action = actions.pop(0) if len(actions) > 1 else actions[0]
                kind = action[0]
                try:
                    if kind == "sleep":
                        time.sleep(action[1])
                        kind, action = "ok", ("ok", action[2])
                    if kind == "status":
                        self.send_response(action[1])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = action[1]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if kind == "truncated":
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
