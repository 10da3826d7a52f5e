"""App start-up and chat speed: `python -m bench app [--data-dir DIR] [--turns N]`.

Starts `python app.py` as a user would (a fresh process on a free port), and measures
- cold start: process start → first HTTP 200 on / (the app warms up before it listens, so this includes it);
- warm: process start → the app logs that its warm-up (catalog, index, model, first search) is done;
- the first chat turn through the HTTP API (gradio_client, endpoint /send) sent right at page-up (the
  warm-up is done by then), then the p50/p95 of a scripted conversation once the app is warm;
- peak RSS of the app process and its children, sampled every 50 ms for the whole run.
Targets (issues 4 and 6): cold start < 20 s, turn p95 ≤ 300 ms without an LLM, RSS ≤ 1.5 GB.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from tests.support.apprunner import free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = [  # a realistic conversation: facts, a quick-reply style answer, a question, a correction
    "我们是魏都区的制造业企业，员工50人，去年营收2000万，资产1500万",
    "应纳税所得额大概200万",
    "否",
    "稳岗返还怎么申请？",
    "不对，员工是400人",
    "我们是小规模纳税人，每月卖个七八万",
    "高新技术企业有什么优惠？",
    "没有研发费用",
    "深圳的人才公寓怎么申请？",
    "有融资需求",
]


class RssSampler(threading.Thread):
    """Peak resident memory of a process tree (the app and anything it spawns)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self._done = pid, every, 0, threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()


def wait_http(url: str, process: subprocess.Popen, timeout: float) -> float:
    """Seconds until `url` answers 200 (raises if the process dies or time runs out)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"no HTTP 200 from {url} within {timeout:.0f} s")


def wait_warm(log: Path, process: subprocess.Popen, spawned: float, timeout: float) -> float:
    """Seconds from process start until the app logs that its warm-up is done (polled every 0.1 s)."""
    while time.perf_counter() - spawned < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with code {process.returncode}")
        if "warmed up in" in log.read_text(encoding="utf-8", errors="replace"):
            return time.perf_counter() - spawned
        time.sleep(0.1)
    raise TimeoutError(f"the app did not finish warming up within {timeout:.0f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench app", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", str(ROOT / "data")),
                        help="the ingested index to serve (default: DATA_DIR or ./data)")
    parser.add_argument("--turns", type=int, default=2 * len(SCRIPT), help="scripted turns once warm")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    from gradio_client import Client

    port = free_port()
    env = {**os.environ, "DATA_DIR": args.data_dir, "GRADIO_SERVER_PORT": str(port),
           "GRADIO_SERVER_NAME": "127.0.0.1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    url = f"http://127.0.0.1:{port}/"
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-app-", suffix=".log", delete=False)
    spawned = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    sampler = RssSampler(process.pid)
    sampler.start()
    try:
        cold = wait_http(url, process, args.timeout)
        client = Client(url, verbose=False)
        started = time.perf_counter()
        client.predict(SCRIPT[0], api_name="/send")
        first = time.perf_counter() - started
        warm = wait_warm(Path(log.name), process, spawned, args.timeout)
        latencies = []
        for n in range(args.turns):
            started = time.perf_counter()
            client.predict(SCRIPT[(n + 1) % len(SCRIPT)], api_name="/send")
            latencies.append(time.perf_counter() - started)
        client.close()
    except Exception:
        log.flush()
        print("app log (last lines):\n" + "".join(Path(log.name).read_text(encoding="utf-8").splitlines(True)[-20:]),
              file=sys.stderr)
        raise
    finally:
        process.terminate()  # first: nothing below may leave the app running
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        sampler.stop()
        log.close()
        Path(log.name).unlink(missing_ok=True)

    rows = [
        ("cold start (process → HTTP 200 on /)", f"{cold:.1f} s", "< 20 s", cold < 20),
        ("warm (process → warm-up done)", f"{warm:.1f} s", "", None),
        ("first chat turn sent at page-up (HTTP API)", f"{first * 1000:.0f} ms", "", None),
        (f"chat turn p50 over {len(latencies)} turns, warm", f"{statistics.median(latencies) * 1000:.0f} ms", "", None),
        (f"chat turn p95 over {len(latencies)} turns, warm", f"{percentile(latencies, 0.95) * 1000:.0f} ms", "≤ 300 ms",
         percentile(latencies, 0.95) <= 0.300),
        ("peak RSS (app process tree)", f"{sampler.peak / 1048576:.0f} MB", "≤ 1536 MB", sampler.peak <= 1.5 * 1024 ** 3),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>9}  {'target':<9}  ok")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>9}  {target:<9}  {'' if ok is None else ('yes' if ok else 'NO')}")
    print("(turn latency through HTTP includes gradio_client's queue round trip; no LLM configured)"
          if not os.environ.get("OPENAI_BASE_URL") else "(an LLM is configured: turns include its latency)")


if __name__ == "__main__":
    main(sys.argv[1:])
