"""One ASGI app: the HTTP API at /api/v1 (calculator/api), the public page (five tabs over the library) at /
and the admin page at /admin behind its own login. Building is a function so tests can inspect the page
unlaunched.

Two Blocks rather than an admin tab, so that the admin page and its API routes sit behind Gradio's
login while the public page needs none; Starlette matches mounts in order, so /admin goes first.
Every mounted Blocks gets Gradio's file-upload route whether it has an upload box or not: only the
logged-in admin page has one, so uploads anywhere else are refused before they reach the disk
(anyone could otherwise fill Gradio's temp folder, up to UPLOAD_MAX_MB a request on a disabled admin page).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi
import gradio as gr
from starlette.responses import PlainTextResponse

from calculator.ui import assistant, knowledge, officials, staff, subscribe
from calculator.ui.admin import build_admin

TITLE = "许昌惠企政策计算器"
CSS = (Path(__file__).with_name("app.css")).read_text(encoding="utf-8")
# Local CJK fonts only: the default theme would ask Google Fonts for IBM Plex, which an offline
# government network cannot reach (and each attempt delays the first paint).
FONTS = ["Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "sans-serif"]
THEME = gr.themes.Default(primary_hue="blue", secondary_hue="slate", font=FONTS,
                          font_mono=["Noto Sans Mono CJK SC", "WenQuanYi Micro Hei Mono", "monospace"])
HEADER = (f'<div class="pc-header"><h1 style="margin:0">{TITLE}</h1>'
          '<div class="pc-explain">回答几个问题，查看可享受的惠企政策、估算金额、办理方式和依据条款。'
          '结果依据政策原文逐条核对，仅供参考，以主管部门认定为准。</div></div>')


# Gradio's own words that reach the page: the hidden drop hint of an editable table (read by screen readers,
# found by the leak scan in an en-US browser) and a status key Gradio 6.31 ships without any translation.
# The same Chinese for every locale Gradio knows, so a browser set to English or Japanese never sees them.
GRADIO_WORDS = {"dataframe.drop_to_upload": "可将 CSV 文件拖入此表导入", "common.complete": "完成"}
GRADIO_LOCALES = ("ar ca ckb de en es et eu fa fi fr he hi id ja ko lt nb nl pl pt pt-BR ro ru sv ta th tr uk ur "
                  "uz zh-CN zh-TW").split()
I18N = gr.I18n(**{locale: GRADIO_WORDS for locale in GRADIO_LOCALES})


def build_app() -> gr.Blocks:
    """The whole public UI (not launched): 智能问答, 窗口办理, 订阅提醒, 政策覆盖, 知识库."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(HEADER)
        with gr.Tabs():
            with gr.Tab("智能问答", id="chat", elem_id="tab-chat"):
                chat_state, reset_chat = assistant.build(demo)
            with gr.Tab("窗口办理", id="staff", elem_id="tab-staff"):
                staff_report, next_applicant = staff.build()
                reset_chat(next_applicant)   # a shared service-hall PC keeps nothing of the last applicant
            with gr.Tab("订阅提醒", id="subscribe", elem_id="tab-subscribe"):
                subscribe.build(chat_state, staff_report)
            with gr.Tab("政策覆盖", id="officials", elem_id="tab-officials"):
                officials.build()
            with gr.Tab("知识库", id="knowledge", elem_id="tab-knowledge"):
                knowledge.build()
        gr.HTML('<div class="pc-explain" style="text-align:right"><a href="/admin/">知识库管理（管理员）</a></div>')
    return demo


PUBLIC_MAX_FILE = "1mb"  # the public page takes no uploads (and UploadGuard refuses them)
UPLOAD_ROUTE = "/gradio_api/upload"


class UploadGuard:
    """ASGI middleware: POST …/gradio_api/upload only under /admin/ while the admin area is enabled (Gradio's
    login then still applies); 403 elsewhere."""

    def __init__(self, app: Any, admin_uploads: bool) -> None:
        self.app = app
        self.admin_uploads = admin_uploads

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "").rstrip("/") if scope["type"] == "http" else ""
        if path.endswith(UPLOAD_ROUTE) and not (self.admin_uploads and path == "/admin" + UPLOAD_ROUTE):
            await PlainTextResponse("此处不接受上传 / uploads are not accepted here", status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


_PAGE = ('<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
         '<title>{title}</title><body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em">'
         '<h2>{title}</h2><p>{text}</p><p><a href="/">返回许昌惠企政策计算器</a></p></body></html>')


def add_reminder_routes(server: fastapi.FastAPI) -> None:
    """The links every reminder carries: unsubscribe, and the calendar feed phones subscribe to."""
    from starlette.responses import HTMLResponse, Response

    @server.get("/reminders/unsubscribe", include_in_schema=False)
    def unsubscribe(code: str = "") -> HTMLResponse:
        from calculator.officials.subscriptions import unsubscribe as remove

        if remove(code):
            return HTMLResponse(_PAGE.format(title="已退订", text="订阅及保存的企业信息已删除，今后不会再收到提醒。"))
        return HTMLResponse(_PAGE.format(title="退订链接无效", text="该订阅不存在或已退订。"), status_code=404)

    @server.get("/reminders/calendar/{code}.ics", include_in_schema=False)
    def calendar(code: str) -> Response:
        from calculator.officials.reminders import calendar_feed
        from calculator.officials.subscriptions import feed_results

        results = feed_results(code)
        if results is None:
            return PlainTextResponse("日历链接无效 / no such calendar feed", status_code=404)
        return Response(calendar_feed(results), media_type="text/calendar; charset=utf-8")


def create_server(host: str = "127.0.0.1", port: int = 7860) -> fastapi.FastAPI:
    """The HTTP API at /api/v1 (its routes first: the Gradio mount at "/" would answer their paths), the admin
    page at /admin and the public page at /. Gradio's own /openapi.json (its internal routes) is switched off;
    the API's document is /api/v1/openapi.json."""
    from calculator.admin import admin_enabled, check_credentials, max_upload_bytes
    from calculator.api.routes import create_api

    server = create_api()
    add_reminder_routes(server)   # before the Gradio mount at "/", which would otherwise take these paths
    common = {"server_name": host, "server_port": port, "theme": THEME, "css": CSS, "footer_links": [], "i18n": I18N,
              "run_history": False, "ssr_mode": False,
              "app_kwargs": {"openapi_url": None, "docs_url": None, "redoc_url": None}}
    gr.mount_gradio_app(server, build_admin(), "/admin", auth=check_credentials if admin_enabled() else None,
                        auth_message="许昌惠企政策计算器 · 知识库管理", max_file_size=max_upload_bytes(), **common)
    gr.mount_gradio_app(server, build_app(), "/", max_file_size=PUBLIC_MAX_FILE, **common)
    server.add_middleware(UploadGuard, admin_uploads=admin_enabled())
    return server
