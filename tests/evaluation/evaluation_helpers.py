"""Helpers of the evaluation tests (a module of its own: `conftest` names collide across test folders)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HAVE_COCO = shutil.which("java") is not None and importlib.util.find_spec("pycocoevalcap") is not None
requires_coco = pytest.mark.skipif(
    not HAVE_COCO, reason="the pycocoevalcap reference needs `java` on the PATH and the pycocoevalcap package"
)


class FakeChatServer:
    """An OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1 that counts requests.

    `reply` maps (request number starting at 1, request body) to ``(status, content)``.
    """

    def __init__(self, reply: Callable[[int, dict], tuple[int, str]]):
        self.reply = reply
        self.requests: list[dict] = []
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.paths.append(self.path)
                status, content = server.reply(len(server.requests), body)
                if status == 200:
                    payload = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
                else:
                    payload = {"error": {"message": content}}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def scores_reply(scores: dict[str, float]) -> str:
    return json.dumps(scores)
