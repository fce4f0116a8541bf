"""flows.alerts.delivery: a webhook POST against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

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
