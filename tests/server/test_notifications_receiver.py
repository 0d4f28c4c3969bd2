"""A real webhook for the notification tests: a stdlib HTTP server on 127.0.0.1 in a thread
that keeps every request it gets and answers with the statuses it is given (then 200).
(No tests here; the name keeps the module unique on sys.path.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from live_server import wait_for


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self.hold = threading.Event()  # cleared: requests wait until it is set
        self.hold.set()
        self.url = ""

    def wait(self, count: int = 1) -> list[Received]:
        wait_for(lambda: len(self.received) >= count, 60, f"{count} notification(s)")
        return self.received

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server names it so
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.hold.wait(60)
                receiver.received.append(Received(self.command, self.path,
                                                  dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def webhook(*statuses: int) -> Iterator[Receiver]:
    receiver = Receiver(list(statuses))
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver._handler())
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN-in-path"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.hold.set()
        server.shutdown()
        server.server_close()


def http_env(url: str) -> dict[str, str]:
    return {"DIGPY_NOTIFICATION_TYPE": "http", "DIGPY_NOTIFICATION_HTTP_URL": url,
            "DIGPY_NOTIFICATION_HTTP_HEADERS": '{"X-Team-Token": "sekret-123"}'}
