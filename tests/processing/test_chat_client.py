"""The shared chat client and its retry policy against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from macm.processing.chat_client import ChatClient, ChatError, RetryPolicy, chat_endpoint

MESSAGES = [{"role": "user", "content": "Describe the motion."}]


def completion(content: str) -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


class ScriptedServer:
    """Answers request k with `script[k]` = ``(status, body, headers)``; keeps each request's path, headers, body
    and arrival time."""

    def __init__(self, script: list[tuple[int, bytes, dict]]):
        self.script, self.requests = script, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                server.requests[-1]["time"] = time.perf_counter()
                status, data, headers = server.script[min(len(server.requests), len(server.script)) - 1]
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def serve():
    servers = []

    def start(script) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def send_and_keep_body(client: ChatClient):
    def call():
        reply = client.send(MESSAGES, temperature=0, seed=5)
        return reply.content, reply.body

    return call


def test_429_500_and_malformed_replies_are_retried_and_every_attempt_is_kept(serve):
    server = serve(
        [
            (429, b'{"error": "slow down"}', {"Retry-After": "0.3"}),
            (500, b'{"error": "overloaded"}', {}),
            (200, b"<html>gateway page</html>", {}),
            (200, b'{"object": "error", "message": "no choices"}', {}),
            (200, completion("A man waves."), {}),
        ]
    )
    client = ChatClient(server.url, "served-model", timeout=10)
    value, attempts = RetryPolicy(attempts=5, backoff=0.01).run(send_and_keep_body(client), "test")
    assert value == "A man waves."
    assert len(attempts) == len(server.requests) == 5 and [a.attempt for a in attempts] == [1, 2, 3, 4, 5]
    assert [a.error_kind for a in attempts] == ["http", "http", "malformed_response", "malformed_response", None]
    assert [a.status_code for a in attempts] == [429, 500, None, None, None]
    assert [a.ok for a in attempts] == [False, False, False, False, True]
    # nothing the server said is lost: each failed attempt keeps its body, the success its completion
    assert "slow down" in attempts[0].response and "overloaded" in attempts[1].response
    assert attempts[2].response == "<html>gateway page</html>" and "no choices" in attempts[3].response
    assert json.loads(attempts[4].response)["choices"][0]["message"]["content"] == "A man waves."
    assert attempts[0].message == f"HTTP 429 from {server.url}/v1/chat/completions"
    # the server's Retry-After (0.3 s) was waited instead of the 0.01 s backoff
    assert server.requests[1]["time"] - server.requests[0]["time"] >= 0.3


def test_client_errors_stop_at_once_and_retries_stop_after_the_last_attempt(serve):
    bad_request = serve([(400, b'{"error": "unknown model"}', {})])
    value, attempts = RetryPolicy(attempts=3, backoff=0).run(send_and_keep_body(ChatClient(bad_request.url, "m")))
    assert value is None and len(attempts) == len(bad_request.requests) == 1
    assert attempts[0].status_code == 400 and "unknown model" in attempts[0].response

    down = serve([(503, b"down", {})])
    value, attempts = RetryPolicy(attempts=3, backoff=0).run(send_and_keep_body(ChatClient(down.url, "m")))
    assert value is None and len(attempts) == len(down.requests) == 3
    assert all(a.error_kind == "http" and a.response == "down" for a in attempts)


def test_replies_the_caller_rejects_are_retried_with_the_reply_kept(serve):
    server = serve([(200, completion("not json"), {}), (200, completion('{"ok": true}'), {})])
    client = ChatClient(server.url, "m")

    def call():
        reply = client.send(MESSAGES)
        try:
            return json.loads(reply.content), reply.body
        except json.JSONDecodeError as error:
            raise ChatError(f"reply is not JSON: {error}", "malformed_json", response=reply.body) from None

    value, attempts = RetryPolicy(attempts=2, backoff=0).run(call)
    assert value == {"ok": True} and [a.error_kind for a in attempts] == ["malformed_json", None]
    assert json.loads(attempts[0].response)["choices"][0]["message"]["content"] == "not json"


def test_request_body_endpoint_and_credentials(serve, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_stored_token_never_sent")
    server = serve([(200, completion("{}"), {})])
    fmt = {"type": "json_object"}
    ChatClient(server.url, "served-model").send(MESSAGES, temperature=0, seed=7, max_tokens=9, response_format=fmt)
    ChatClient(server.url + "/v1/", "served-model", api_key="k").send(MESSAGES)
    first, second = server.requests
    assert first["path"] == second["path"] == "/v1/chat/completions"
    assert first["body"]["model"] == "served-model" and first["body"]["messages"] == MESSAGES
    assert (first["body"]["temperature"], first["body"]["seed"], first["body"]["max_tokens"]) == (0, 7, 9)
    assert first["body"]["response_format"] == fmt
    assert not any(name.lower() == "authorization" for name in first["headers"])
    assert {k.lower(): v for k, v in second["headers"].items()}["authorization"] == "Bearer k"


def test_no_server_is_a_connection_failure():
    value, attempts = RetryPolicy(attempts=2, backoff=0).run(send_and_keep_body(ChatClient("http://127.0.0.1:9", "m")))
    assert value is None and [a.error_kind for a in attempts] == ["connection", "connection"]


def test_validation_and_backoff():
    assert chat_endpoint("http://h:8000") == "http://h:8000/v1/chat/completions"
    assert chat_endpoint("https://h/v1/chat/completions/") == "https://h/v1/chat/completions"
    with pytest.raises(ValueError, match="url must start with http:// or https://, got 'h:8000'"):
        ChatClient("h:8000", "m")
    with pytest.raises(ValueError, match="model must name the served model"):
        ChatClient("http://h:8000", "")
    with pytest.raises(ValueError, match="attempts must be >= 1, got 0"):
        RetryPolicy(attempts=0)
    policy = RetryPolicy(backoff=2.0, max_backoff=5.0)
    assert [policy.delay(n) for n in (1, 2, 3)] == [2.0, 4.0, 5.0]
    assert policy.delay(1, retry_after=30.0) == 5.0
