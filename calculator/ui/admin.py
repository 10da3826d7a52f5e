"""知识库管理 (admins): upload documents, re-index with progress, read the catalog validation report.

A separate Blocks, mounted at /admin behind Gradio's login with `check_credentials` (ADMIN_USER /
ADMIN_PASSWORD from the environment; no default). Without credentials the page only says it is
disabled. Each handler also refuses a request that carries no logged-in user, so a route reached
some other way still does nothing.
"""
from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from calculator.core.errors import UserError
from calculator.core.vocabulary import VALIDITY_LABEL
from calculator.ui.common import error_html, friendly

log = logging.getLogger("calculator.app")
DISABLED = ("知识库管理未启用：请在环境变量中设置 ADMIN_USER 和 ADMIN_PASSWORD 后重启应用"
            "（没有默认密码）。")
POLL_SECONDS = 2.0


def _require_login(request: gr.Request | None) -> None:
    from calculator.admin import admin_enabled

    if not admin_enabled() or request is None or not getattr(request, "username", None):
        raise UserError("请先登录知识库管理", "admin login required")


@friendly(lambda message, *args: error_html(message))
def upload(files: list[str] | None, request: gr.Request) -> str:
    """Validate and store each uploaded file; one line per file, accepted or refused with the reason."""
    from calculator.admin import save_upload, validate_upload

    _require_login(request)
    if not files:
        raise UserError("请先选择要上传的文件", "choose files to upload")
    lines = []
    for path in files:
        name = Path(path).name
        try:
            saved = save_upload(validate_upload(name, Path(path).read_bytes()))
            lines.append(f"<li>✓ {escape(name)} → 已保存为 {escape(saved.name)}</li>")
        except UserError as exc:
            lines.append(f"<li>✗ {escape(name)}：{escape(exc.zh)}</li>")
        except OSError as exc:  # disk full, permissions: this file fails, the others are still saved
            log.warning("upload could not be saved: %s", type(exc).__name__)
            lines.append(f"<li>✗ {escape(name)}：无法保存（磁盘空间或权限问题），请联系运维</li>")
    return (f'<ul class="pc-trace">{"".join(lines)}</ul>'
            '<div class="pc-notice">上传的文件需“重新导入”后才能被检索和引用。</div>')


def _status_html(status: dict[str, Any]) -> str:
    parts = [f"<b>{escape(status['state_label'])}</b>"]
    if status["state"] == "running":
        parts.append(f"{escape(status['stage_label'])} {status['done']}/{status['total']}（{status['progress']:.0%}）")
    if status.get("started"):
        parts.append(f"开始：{escape(status['started'])}")
    if status.get("finished"):
        parts.append(f"结束：{escape(status['finished'])}")
    html = "，".join(parts)
    report = status.get("report") or {}
    if report:
        html += (f"<div>文档 {report.get('documents', 0)} 份，段落 {report.get('passages', 0)} 个，"
                 f"用时 {report.get('seconds', 0):.1f} 秒</div>")
        failures = report.get("failures") or []
        if failures:
            html += "<ul>" + "".join(f"<li>✗ {escape(str(f.get('file')))}：{escape(str(f.get('reason')))}</li>"
                                     for f in failures) + "</ul>"
    if status.get("error"):
        html += error_html(str(status["error"]))
    return f'<div class="pc-results">{html}</div>'


@friendly(lambda message, *args: (error_html(message), gr.skip()))
def reindex(request: gr.Request) -> tuple[str, Any]:
    """Start an ingest in the background; the timer then polls its progress."""
    from calculator.admin import ingest_status, start_ingest

    _require_login(request)
    started = start_ingest()
    note = "" if started else error_html("已有导入任务在运行，请等待其完成")
    return note + _status_html(ingest_status().to_json()), gr.Timer(active=True)


@friendly(lambda message, *args: (error_html(message), gr.Timer(active=False)))
def poll(request: gr.Request) -> tuple[str, Any]:
    from calculator.admin import ingest_status

    _require_login(request)
    status = ingest_status().to_json()
    return _status_html(status), gr.Timer(active=status["state"] == "running")


@friendly(lambda message, *args: error_html(message))
def catalog_check(request: gr.Request) -> str:
    """The catalog validation report: counts and caveats, or every problem with file and field."""
    from calculator.admin import catalog_report

    _require_login(request)
    report = catalog_report()
    if not report["ok"]:
        serving = {"last_good": f"仍在使用上一次有效的政策库（{report.get('serving_count', 0)} 项）",
                   "none": "当前没有可用的政策库"}[report["serving"]]
        rows = "".join(f"<tr><td>{escape(p['file'])}</td><td>{escape(p['path'])}</td><td>{escape(p['zh'])}</td></tr>"
                       for p in report["problems"])
        return (error_html(f"政策库校验未通过：{serving}") +
                f'<table class="pc-apply"><tr><th>文件</th><th>位置</th><th>问题</th></tr>{rows}</table>')
    items = "".join(f"<tr><td>{escape(i['title'])}</td><td>{escape(VALIDITY_LABEL.get(i['status'], i['status']))}</td><td>{escape(str(i['valid_until'] or '长期'))}</td>"
                    f"<td>{escape('；'.join(i['caveats']))}</td></tr>" for i in report["items"])
    return (f'<div class="pc-results">✓ 校验通过（{escape(report["today"])}）：{report["count"]} 项政策，'
            f'{report["quotes_verified"]} 处引文已逐字核对，引用 {len(report["documents_cited"])} 份文件。'
            f'<table class="pc-apply"><tr><th>政策</th><th>状态</th><th>有效期至</th><th>提示</th></tr>{items}</table></div>')


@friendly(lambda message, *args: error_html(message))
def sent_log() -> str:
    """The latest reminder deliveries, by subscription number (never an address)."""
    from calculator.officials.subscriptions import sent_log as log

    rows = log()
    if not rows:
        return '<div class="pc-empty">还没有发送过提醒。</div>'
    channel = {"email": "邮件", "webhook": "推送"}
    body = "".join(f"<tr><td>#{r['subscription']}</td><td>{escape(channel.get(r['channel'], r['channel']))}</td>"
                   f"<td>{escape(r['sent_at'])}</td><td>{r['items']}</td><td>{'成功' if r['ok'] else '失败（下次重试）'}</td></tr>"
                   for r in rows)
    return ("<table class='pc-table'><tr><th>订阅</th><th>方式</th><th>时间（UTC）</th><th>条数</th><th>结果</th></tr>"
            f"{body}</table>")


def build_admin() -> gr.Blocks:
    """The admin Blocks (mounted at /admin by calculator.ui.server)."""
    from calculator.admin import admin_enabled, max_upload_bytes

    with gr.Blocks(title="知识库管理 · 许昌惠企政策计算器", analytics_enabled=False) as admin:
        gr.Markdown("## 知识库管理")
        if not admin_enabled():
            gr.Markdown(DISABLED, elem_id="admin-disabled")
            return admin
        gr.Markdown(f"上传政策文件（.txt .md .docx .pdf .html，单个不超过 {max_upload_bytes() // 1048576} MB），"
                    "然后“重新导入”建立索引。")
        files = gr.File(file_count="multiple", type="filepath", label="选择文件", elem_id="admin-files")
        upload_btn = gr.Button("上传", variant="primary", elem_id="admin-upload")
        uploaded = gr.HTML("", elem_id="admin-uploaded")
        with gr.Row():
            reindex_btn = gr.Button("重新导入（建立索引）", elem_id="admin-reindex")
            status_btn = gr.Button("刷新状态", elem_id="admin-status")
        status = gr.HTML("", elem_id="admin-ingest")
        timer = gr.Timer(POLL_SECONDS, active=False)
        check_btn = gr.Button("校验政策库", elem_id="admin-catalog")
        report = gr.HTML("", elem_id="admin-report")
        sent_btn = gr.Button("提醒发送记录", elem_id="admin-sent")
        sent = gr.HTML("", elem_id="admin-sent-log")

        upload_btn.click(upload, files, uploaded)
        reindex_btn.click(reindex, None, [status, timer])
        status_btn.click(poll, None, [status, timer])
        timer.tick(poll, None, [status, timer])
        check_btn.click(catalog_check, None, report)
        sent_btn.click(sent_log, None, sent)
    return admin
