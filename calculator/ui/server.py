"""One ASGI app: the public page at / and the admin page at /admin behind its own login.

Two Blocks rather than an admin tab, so that the admin page and its API routes sit behind Gradio's
login while the public page needs none; Starlette matches mounts in order, so /admin goes first.
"""
from __future__ import annotations

import fastapi
import gradio as gr

from calculator.ui.layout import CSS, THEME, build_app
from calculator.ui.admin import build_admin

PUBLIC_MAX_FILE = "1mb"  # the public page takes no uploads


def create_server(host: str = "127.0.0.1", port: int = 7860) -> fastapi.FastAPI:
    from calculator.admin import admin_enabled, check_credentials, max_upload_bytes

    server = fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    common = {"server_name": host, "server_port": port, "theme": THEME, "css": CSS, "footer_links": [],
              "run_history": False, "ssr_mode": False}
    gr.mount_gradio_app(server, build_admin(), "/admin", auth=check_credentials if admin_enabled() else None,
                        auth_message="许昌惠企政策计算器 · 知识库管理", max_file_size=max_upload_bytes(), **common)
    gr.mount_gradio_app(server, build_app(), "/", max_file_size=PUBLIC_MAX_FILE, **common)
    return server
