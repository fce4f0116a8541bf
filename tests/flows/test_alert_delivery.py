"""flows.alerts.delivery: a webhook POST against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from http.server import ThreadingHTTPServer

import pytest
from conftest import QuietHandler, serving_locally

from flows.alerts.delivery import AlertDeliveryError, post_json


class _Moved(QuietHandler):
    """Answers a POST to /hook with a redirect, and the page it points to with 200."""

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        self.server.seen.append(("POST", self.path))  # type: ignore[attr-defined]
        self.send_response(self.server.code)  # type: ignore[attr-defined]
        self.send_header("Location", "/moved")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append(("GET", self.path))  # type: ignore[attr-defined]
        self.reply(200, "text/html", b"<html>a login page</html>")


class _MovedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, code: int) -> None:
        super().__init__(("127.0.0.1", 0), _Moved)
        self.code = code
        self.seen: list[tuple[str, str]] = []


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirected_webhook_is_a_failed_delivery_not_a_sent_alert(monkeypatch, code):
    """urllib would follow it as a GET without the body, and the 200 it lands on looked sent."""
    with serving_locally(_MovedServer(code), monkeypatch) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with pytest.raises(AlertDeliveryError, match=rf"answered {code}, a redirect"):
            post_json(url, {"text": "New hassle"}, timeout=5)
    assert server.seen == [("POST", "/hook")]


class _Echo(QuietHandler):
    """Answers 404 with a page that repeats the request's path, as many frameworks do."""

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        self.reply(404, "text/plain", f"Cannot POST {self.path}".encode())


class _Trickle(QuietHandler):
    """Answers 200, one byte of its headers at a time, each well within a read timeout."""

    def do_POST(self) -> None:  # noqa: N802
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Padding: " + b"x" * 60 + b"\r\n\r\nok"
        try:
            for byte in answer:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up: what the test wants


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[QuietHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)


def test_a_receivers_error_page_never_carries_the_webhooks_secret_into_the_error(monkeypatch):
    with serving_locally(_Server(_Echo), monkeypatch) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/services/T0001/B0002/SECRETtoken1234"
        with pytest.raises(AlertDeliveryError, match="answered 404: Cannot POST") as raised:
            post_json(url, {"text": "New hassle"}, timeout=5)
    message = str(raised.value)
    assert "SECRETtoken1234" not in message and "T0001" not in message and "B0002" not in message


def test_a_receiver_that_trickles_its_answer_fails_once_the_timeout_is_spent(monkeypatch):
    # Each byte comes well within the 1 s timeout, the whole answer in about 7 s: urllib's
    # timeout bounds each read, so the timeout must bound the request as a whole.
    with serving_locally(_Server(_Trickle), monkeypatch) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with pytest.raises(AlertDeliveryError, match=r"did not answer within .*\(1 s\)"):
            post_json(url, {"text": "New hassle"}, timeout=1)
