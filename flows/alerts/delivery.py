"""Alert delivery at the edge: a JSON POST to a webhook, or a Prefect notification block."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import prefect.blocks.notifications  # noqa: F401 - registers the bundled notification blocks
from prefect.blocks.abstract import NotificationBlock
from prefect.blocks.core import Block
from prefect.client.orchestration import get_client

from config.base import url_up_to_host
from flows.alerts.messages import is_web_link


class AlertDeliveryError(RuntimeError):
    """A channel did not accept the alerts (Prefect retries the task)."""


def _without_secrets(text: str, url: str) -> str:
    """``text`` with the URL's path, query and each of their parts masked.

    A receiver's error page often repeats the request ("Cannot POST /services/T0/B0/token"),
    and the error reaches the log, ``runs.error`` and the analyst snapshot.
    """
    parts = urllib.parse.urlsplit(url)
    pieces = [parts.path, parts.query, *parts.path.split("/"), *re.split("[&=]", parts.query)]
    for piece in sorted({p for p in pieces if len(p) >= 4}, key=len, reverse=True):
        for form in {piece, urllib.parse.unquote(piece), urllib.parse.quote(piece, safe="")}:
            text = text.replace(form, "…")
    return text


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Follow no redirect.

    urllib turns a redirected POST into a GET without the body, and the page it lands on
    answers 200, so an alert never delivered would count as sent.
    """

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Refuse: the 3xx answer is raised as an :class:`urllib.error.HTTPError`."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, payload: dict[str, Any], timeout: float) -> int:
    """POST ``payload`` as JSON; raise :class:`AlertDeliveryError` unless the answer is 2xx.

    Args:
        url: An http(s) URL.
        payload: The JSON body.
        timeout: Seconds the whole request may take, connection and answer.

    Returns:
        The HTTP status.
    """
    if not is_web_link(url):
        raise AlertDeliveryError(f"alerts.webhook_url must be an http(s) URL, got {url[:8]!r}...")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        status = _within(timeout, lambda: _send(request, timeout), url)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise AlertDeliveryError(
                f"webhook {url_up_to_host(url)} answered {exc.code}, a redirect: a redirected POST "
                "loses its body, so nothing was delivered; set alerts.webhook_url to the "
                "address it redirects to"
            ) from None
        detail = _without_secrets(exc.read()[:200].decode("utf-8", "replace"), url)
        raise AlertDeliveryError(
            f"webhook {url_up_to_host(url)} answered {exc.code}: {detail}"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AlertDeliveryError(f"webhook {url_up_to_host(url)} unreachable: {reason}") from None
    if not 200 <= status < 300:
        raise AlertDeliveryError(f"webhook {url_up_to_host(url)} answered {status}")
    return status


def _send(request: urllib.request.Request, timeout: float) -> int:
    with _OPENER.open(request, timeout=timeout) as response:
        response.read()
        return response.status


def _within(seconds: float, call: Callable[[], int], url: str) -> int:
    """``call()``'s result, or :class:`AlertDeliveryError` once ``seconds`` have passed.

    urllib's timeout bounds each read, not the request: a receiver that answers a byte a
    second would hold the run, and the warehouse, for as long as it likes. The call runs on a
    daemon thread, left behind when it overruns (its socket times out on its own).
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["status"] = call()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="webhook-post", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise AlertDeliveryError(
            f"webhook {url_up_to_host(url)} did not answer within alerts.timeout_seconds ({seconds:g} s)"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["status"]


def load_notification_block(name: str) -> NotificationBlock:
    """Load a saved Prefect notification block by ``type-slug/name`` or by its name alone.

    Args:
        name: ``slack-webhook/team-alerts``, or ``team-alerts`` when exactly one notification
            block has that name.

    Returns:
        The block, ready for ``notify(body, subject)``.
    """
    slug = name if "/" in name else _notification_block_slug(name)
    block = Block.load(slug)
    if not isinstance(block, NotificationBlock):
        raise TypeError(
            f"alerts.prefect_block {name!r} is a {type(block).__name__}, which cannot notify"
        )
    return block


def _notification_block_slug(name: str) -> str:
    found: set[str] = set()
    page = 200
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            docs = client.read_block_documents(offset=offset, limit=page, include_secrets=False)
            for doc in docs:
                capabilities = doc.block_schema.capabilities if doc.block_schema else []
                if doc.name == name and doc.block_type and "notify" in capabilities:
                    found.add(f"{doc.block_type.slug}/{doc.name}")
            if len(docs) < page:
                break
            offset += page
    if len(found) != 1:
        which = "none" if not found else ", ".join(sorted(found))
        raise ValueError(
            f"alerts.prefect_block {name!r}: expected one notification block of that name, "
            f"found {which}; write it as <block-type-slug>/<name>, e.g. slack-webhook/{name}"
        )
    return found.pop()
