"""Start the real app (`python app.py`) or a `chroma run` server in a subprocess on a free loopback port,
and stop it again.

Shared by the tests that need the whole app as users reach it (tests/ui/test_browser.py, test_load.py,
test_faults.py, test_hostile.py), the Chroma server tests and the benchmarks (`bench` imports it as
`tests.apprunner`): the same start-up, the same readiness check, the same log file, so a test can also
read what the process printed. Never a leftover process: the context managers terminate (then kill) it
on exit, whatever happened inside.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-11-23"
START_TIMEOUT_S = 90.0
# Settings a developer's shell may carry that would change what the app does under test.
CLEARED = ("ADMIN_USER", "ADMIN_PASSWORD", "OPENAI_BASE_URL", "OPENAI_API_KEY", "LLM_MODEL", "CHROMA_HOST",
           "CHROMA_PORT", "GRADIO_DEFAULT_CONCURRENCY_LIMIT", "CALCULATOR_DEBUG", "DENSE_SEARCH")


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float, alive: "subprocess.Popen[bytes] | None" = None) -> bool:
    """Poll `url` until it answers (any HTTP status) or `timeout` passes or `alive` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answered: 401 on a guarded page is still "up"
        except OSError:
            if alive is not None and alive.poll() is not None:
                return False
            time.sleep(0.2)
    return False


@dataclass
class App:
    """A running app: its URL, its process and the file holding its stdout and stderr."""

    url: str
    port: int
    process: "subprocess.Popen[bytes]"
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_app(data_dir: Path, work_dir: Path, **env: str) -> Iterator[App]:
    """`python app.py` with DATA_DIR=`data_dir`, a fixed today, a scratch subscriptions database and log in
    `work_dir`; `env` adds or overrides variables (ADMIN_USER, CHROMA_HOST, KNOWLEDGE_DIR …)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update({"DATA_DIR": str(data_dir), "CALCULATOR_TODAY": TODAY, "GRADIO_SERVER_PORT": str(port),
                    "GRADIO_SERVER_NAME": "127.0.0.1", "SUBSCRIPTIONS_DB": str(work_dir / "subs.sqlite3"),
                    "PYTHONUNBUFFERED": "1", **env})
    log_path = work_dir / "app.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=environ, stdout=log,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    app = App(url, port, process, log_path)
    try:
        if not wait_for_http(url, START_TIMEOUT_S, process):
            raise RuntimeError("the app did not start:\n" + app.log()[-3000:])
        yield app
    finally:
        _stop(process)


def wait_for_log(app: App, text: str, timeout: float) -> bool:
    """Wait until the app's log holds `text` (e.g. "warmed up": the model is loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in app.log():
            return True
        if app.process.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def _stop(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM, then SIGKILL if it has not exited within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


class ChromaServer:
    """`chroma run` on a fixed loopback port and folder, so it can be stopped and started again as the same store."""

    def __init__(self, path: Path, log: Path, port: int | None = None) -> None:
        executable = Path(sys.executable).with_name("chroma")
        self.port = port or free_port()
        self.command = [str(executable if executable.exists() else shutil.which("chroma") or "chroma"), "run",
                        "--path", str(path), "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_http(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", 60, self.process):
            self.stop()
            raise RuntimeError("chroma run did not start: " + self.log.read_text(errors="replace")[-2000:])

    def pause(self) -> None:
        """SIGSTOP: the port stays open and connections are accepted, but nothing answers (a stalled server)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused process would not act on SIGTERM
            _stop(self.process)
        self.process = None


@contextmanager
def chroma_server(folder: Path) -> Iterator[ChromaServer]:
    """A started `chroma run` with its store and log under `folder`; stopped on exit."""
    server = ChromaServer(folder / "store", folder / "chroma.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
