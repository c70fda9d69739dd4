"""What the browser tests need: a page origin (a tiny static server on loopback), the system
Chromium driven by Playwright, and the control center's / the apps' calls written in the
page's own JavaScript, so every request is the browser's, with the browser's CORS rules.

Each step returns a *verdict*: what the page's JavaScript saw (a status and a body, or the
`TypeError` a blocked `fetch` raises, or the `EventSource` frame or error) together with
what Chromium itself reported for the step (the status codes of the responses it received
and the console's CORS messages). The same scenario records the verdicts for the issue's
before/after note (`python -m tests.browser.verdicts`).

Why Playwright rather than raw DevTools-protocol calls: its driver ships inside the PyPI
wheel and drives any Chromium given as `executable_path` (Debian's here; nothing is
downloaded), it waits for pages and promises correctly, and it still hands out a raw CDP
session, which the harness uses for what Playwright does not report (preflights and the
statuses of responses CORS hides from the page).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

CHROMIUM = os.environ.get("HALO_CHROMIUM", "/usr/bin/chromium")

# As root a sandbox is impossible; the rest keep a headless run quiet and offline.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_PAGE = b"<!doctype html><meta charset=utf-8><title>control center stand-in</title>"


class OriginServer:
    """Serves one blank page on loopback: the origin the scenario's JavaScript runs from."""

    def __init__(self, port: int) -> None:
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_PAGE)))
                self.end_headers()
                self.wfile.write(_PAGE)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.port = port

    def start(self) -> OriginServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def allowed(self) -> str:
        """The origin put on the allow-list."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def disallowed(self) -> str:
        """The same server under another host name: another origin, on no list."""
        return f"http://localhost:{self.port}"


def require_chromium() -> str:
    """The system Chromium; a clear failure (never a skip) when it is missing."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`;"
            " `.ci/run` and `nox -s tests` do it as root)."
        )
    return CHROMIUM


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Playwright's Chromium driver over the system browser (no browser download). Playwright's
    `launch` gives every run a fresh temporary profile (its own --user-data-dir)."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            chromium_sandbox=False,
            args=CHROMIUM_FLAGS,
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Verdict:
    """One step as the page and as Chromium saw it."""

    js: dict[str, Any]
    responses: list[str] = field(default_factory=list)  # "METHOD /path → status"
    console: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"page": self.js, "chromium_responses": self.responses, "console": self.console}


class Page:
    """A page opened on `origin`, recording what Chromium reports while a step runs."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self._responses: list[str] = []
        self._console: list[str] = []
        self.page.on("requestfailed", self._on_failed)
        self.page.on("console", self._on_console)
        # Playwright reports no preflights; the DevTools protocol does (type "Preflight").
        self._cdp = self.context.new_cdp_session(self.page)
        self._requests: dict[str, str] = {}
        self._cdp.on("Network.requestWillBeSent", self._on_cdp_request)
        self._cdp.on("Network.responseReceivedExtraInfo", self._on_cdp_wire)
        self._cdp.send("Network.enable")
        self.page.goto(f"{origin}/")

    def close(self) -> None:
        self.context.close()

    def _on_cdp_request(self, event: dict[str, Any]) -> None:
        request = event["request"]
        method = "OPTIONS (preflight)" if event.get("type") == "Preflight" else request["method"]
        self._requests[event["requestId"]] = f"{method} {_path(request['url'])}"

    def _on_cdp_wire(self, event: dict[str, Any]) -> None:
        # The status on the wire, also for responses Chromium's CORS check then hid from the
        # page (which sees only a TypeError or an EventSource error).
        request = self._requests.get(event["requestId"])
        if request is not None and not request.endswith("/favicon.ico"):
            self._responses.append(f"{request} → {event.get('statusCode')}")

    def _on_failed(self, request: Any) -> None:
        self._responses.append(f"{request.method} {_path(request.url)} ✗ {request.failure}")

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self._console.append(_redact(message.text))

    def run(self, script: str, arg: Any) -> Verdict:
        self._responses, self._console = [], []
        result = self.page.evaluate(script, arg)
        # Console and failure events may trail the promise by a moment.
        self.page.wait_for_timeout(50)
        return Verdict(js=result, responses=list(self._responses), console=list(self._console))

    # -- the calls a browser client makes ----------------------------------------------------

    def fetch(
        self,
        url: str,
        method: str = "GET",
        *,
        token: str | None = None,
        json_body: Any = None,
    ) -> Verdict:
        return self.run(_FETCH, {"url": url, "method": method, "token": token, "body": json_body})

    def event_source(self, url: str, event: str, timeout_ms: int = 8000) -> Verdict:
        """Open a native EventSource; the first `event` frame, or its error."""
        return self.run(_EVENT_SOURCE, {"url": url, "event": event, "timeout": timeout_ms})


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + ("?ticket=…" if "ticket=" in parts.query else "")


def _redact(text: str) -> str:
    import re

    return re.sub(r"ticket=[^&'\"\s]+", "ticket=…", text)


_FETCH = """
async ({url, method, token, body}) => {
  const headers = {};
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== null) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(url, {
      method, headers, body: body === null ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {
      status: response.status,
      body: data,
      request_id: response.headers.get("X-Request-Id"),
      retry_after: response.headers.get("Retry-After"),
    };
  } catch (error) {
    return {error: String(error)};
  }
}
"""

_EVENT_SOURCE = """
({url, event, timeout}) => new Promise((resolve) => {
  const source = new EventSource(url);
  const done = (result) => { source.close(); clearTimeout(timer); resolve(result); };
  const timer = setTimeout(() => done({error: "timeout", readyState: source.readyState}),
                           timeout);
  source.addEventListener(event, (e) => {
    let data = null;
    try { data = JSON.parse(e.data); } catch (err) { data = e.data; }
    done({event, type: data && data.type, id: e.lastEventId});
  });
  source.onerror = () => done({error: "EventSource error", readyState: source.readyState});
})
"""
