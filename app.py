"""许昌惠企政策计算器 — the web app: `python app.py` serves http://127.0.0.1:7860.

A thin shell: the page is calculator/ui (layout and handlers), the logic is the calculator library.
Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT. Start-up builds the page, opens the
index's vector store (calculator/index.py serialises a first open from several request threads, as after an
ingest switches the index) and warms up (catalog, index, dictionary, one whole chat turn; the embedding
model only if it can read the warm-up question, which the bundled one cannot) before it listens: the port
opens only when the first turn will be as fast as any other (issue 14 measured 11 s for a first turn that
raced a background warm-up). The warm-up takes a few seconds on top of opening the store.
The HTTP API for other systems is served by the same app at /api/v1 (calculator/api).
"""
from __future__ import annotations

import logging
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

log = logging.getLogger("calculator.app")


def open_store() -> None:
    """Open the current index and its Chroma collection once, before the first request needs it."""
    from calculator.core.errors import UserError
    from calculator.search.index import open_index
    from calculator.ui.common import index_ready

    if not index_ready():
        log.warning("no index yet: questions cannot be answered until `make ingest` runs (matching works)")
        return
    try:
        open_index().collection()
    except UserError as exc:
        log.warning("index not usable: %s", exc.en)


def warm_up() -> None:
    """Load catalog, index and model now rather than on the first turn; a missing index is only noted.

    It must never raise: a failure is logged, the app still starts, and the first turn pays.
    """
    from calculator.core.errors import UserError
    from calculator.dialogue import chat
    from calculator.policy.catalog import load_catalog

    started = time.perf_counter()
    try:
        load_catalog()
        chat.warm_up()
    except UserError as exc:
        log.warning("warm-up incomplete: %s", exc.en)
    except Exception as exc:
        log.error("warm-up failed: %s", type(exc).__name__)
    log.info("warmed up in %.1f s", time.perf_counter() - started)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1").strip() or "127.0.0.1"
    try:
        port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    except ValueError:
        print("GRADIO_SERVER_PORT 应为端口号 / GRADIO_SERVER_PORT must be a port number", file=sys.stderr)
        return 2
    import uvicorn

    from calculator.ui.server import create_server

    server = create_server(host, port)
    open_store()
    warm_up()
    print(f"* 许昌惠企政策计算器: http://{host}:{port}  (知识库管理: http://{host}:{port}/admin/)", flush=True)
    uvicorn.run(server, host=host, port=port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
