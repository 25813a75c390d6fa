"""A real headless Chromium for the HTML reports' tests, driven over the DevTools protocol.

The distribution's package (``apt-get install chromium``) runs with ``--remote-debugging-pipe``:
no port, no driver download. :class:`DevTools` sends commands and keeps the events;
:func:`console_errors` turns the events into the errors a page raised. The ``chromium`` fixture
(``tests/conftest.py``) skips, saying why, where Chromium is not installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,900",
)
TIMEOUT = 60.0


class DevTools:
    """Chromium's DevTools protocol over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out):
    NUL-terminated JSON messages, one page session, events kept until read."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_browser_read, self._write = os.pipe()
        self._read, from_browser_write = os.pipe()

        def child_fds() -> None:  # runs in the child, before exec: the pipe ends become fd 3, 4
            browser_in = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            browser_out = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(browser_in, 3)
            os.dup2(browser_out, 4)

        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=child_fds,  # noqa: PLW1509 - only dup2 before exec
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def send(self, method: str, params: dict[str, Any] | None = None, **where: str) -> Any:
        """Call ``method`` (in the page session unless ``session=''``) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        session = where.get("session", self.session)
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    msg = f"{method}: {reply['error']}"
                    raise AssertionError(msg)
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event named ``method`` (kept or still to come)."""
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._receive())

    def click(self, x: float, y: float) -> None:
        """A real left click (press and release) at ``(x, y)`` in the viewport."""
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def screenshot(self, path: Path) -> Path:
        """The whole page, from its top, as a PNG at ``path``."""
        self.evaluate("window.scrollTo(0, 0)")
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def evaluate(self, expression: str) -> Any:
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in reply:
            msg = f"{expression}: {reply['exceptionDetails']}"
            raise AssertionError(msg)
        return reply["result"].get("value")

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._read, 1 << 20) if ready else b""
            if not chunk:
                msg = "Chromium closed the DevTools pipe or did not answer in time"
                raise AssertionError(msg)
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # the browser may be gone already
            self.send("Browser.close", session="")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)


@contextlib.contextmanager
def browser_page(profile: Path) -> Iterator[DevTools]:
    """A headless Chromium attached to its one page, with Page, Runtime and Log events on; a
    skip, saying why, where Chromium is not installed."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): no browser test")
    browser = DevTools(executable, profile)
    try:
        targets = browser.send("Target.getTargets", session="")["targetInfos"]
        (target,) = [t["targetId"] for t in targets if t["type"] == "page"]
        attached = browser.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, session=""
        )
        browser.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable")
        yield browser
    finally:
        browser.close()


def console_errors(events: list[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions and error log entries, as text."""
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            out.append(f"console.{params['type']}: {params['args']}")
        elif method == "Runtime.exceptionThrown":
            out.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            out.append(f"log: {params['entry']['text']} ({params['entry'].get('url', '')})")
    return out
