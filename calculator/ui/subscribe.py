"""订阅提醒 (精准推送): save a profile, get a code, come back later to see what is new for it.

The profile comes from this session only (the chat's understood facts or the staff form's last
computation); the code is a bearer secret shown once to its holder and never logged.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from calculator.core.errors import UserError
from calculator.present.html import notices_html
from calculator.ui.common import error_html, friendly

FROM_CHAT, FROM_STAFF = "智能问答中已了解的企业信息", "窗口办理表单（最近一次“计算”）"


def _profile(source: str, chat_state: dict[str, Any] | None, staff_report: dict[str, Any] | None) -> dict[str, Any]:
    if source == FROM_STAFF:
        profile = (staff_report or {}).get("profile") or {}
    else:
        profile = (chat_state or {}).get("profile") or {}
    if not profile:
        raise UserError("还没有可保存的企业信息：请先在“智能问答”中回答几个问题，或在“窗口办理”中填写并计算",
                        "no profile to save yet")
    return profile


@friendly(lambda message, *args: ("", error_html(message)))
def save(source: str, chat_state: dict[str, Any] | None, staff_report: dict[str, Any] | None,
         email: str = "", webhook: str = "") -> tuple[str, str]:
    """(the new code, message with the calendar-feed and unsubscribe links)."""
    from html import escape

    from calculator.officials.subscriptions import links_of, subscribe

    token = subscribe(_profile(source, chat_state, staff_report), email=email, webhook=webhook)
    links = links_of(token)
    where = "政策有变化或即将到期时，会发送到您留下的邮箱/推送地址；" if (email or "").strip() or (webhook or "").strip() else ""
    return token, ('<div class="pc-notice">已保存。请记下上面的订阅码：以后在这里输入它，即可看到新出台或有变化、'
                   f"且与贵企业相关的政策。{where}订阅码相当于密码，请勿外传。<br>"
                   f'手机日历订阅（到期提醒）：<a href="{escape(links.feed)}">{escape(links.feed)}</a><br>'
                   f'退订：<a href="{escape(links.unsubscribe)}">{escape(links.unsubscribe)}</a></div>')


def _token(token: str) -> str:
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise UserError("请输入保存时得到的订阅码", "enter the subscription code")
    return token


@friendly(lambda message, *args: error_html(message))
def whats_new(token: str) -> str:
    from calculator.officials.subscriptions import check

    return notices_html(n.to_json() for n in check(_token(token)))


@friendly(lambda message, *args: error_html(message))
def remove(token: str) -> str:
    from calculator.officials.subscriptions import delete

    if delete(_token(token)):
        return '<div class="pc-notice">订阅及保存的企业信息已删除。</div>'
    raise UserError("订阅不存在或已删除", "no such subscription")


def build(chat_state: gr.State, staff_report: gr.State) -> None:
    gr.Markdown("保存企业信息后，政策库更新时可在这里查看**新出台或有变化、且与贵企业相关**的政策及原因。")
    with gr.Row():
        source = gr.Radio([FROM_CHAT, FROM_STAFF], value=FROM_CHAT, label="保存哪份企业信息", scale=3,
                          elem_id="sub-source")
        save_btn = gr.Button("保存并订阅", variant="primary", scale=1, elem_id="sub-save")
    with gr.Row():
        email = gr.Textbox(label="接收提醒的邮箱（可不填）", max_lines=1, scale=1, elem_id="sub-email")
        webhook = gr.Textbox(label="接收推送的网址（政务消息平台，可不填）", max_lines=1, scale=1, elem_id="sub-webhook")
    new_token = gr.Textbox(label="订阅码（请记下）", interactive=False, buttons=["copy"], elem_id="sub-token")
    saved = gr.HTML("", elem_id="sub-saved")
    gr.Markdown("---")
    with gr.Row():
        token = gr.Textbox(label="输入订阅码", type="password", scale=3, elem_id="sub-check-token")
        check_btn = gr.Button("查看新变化", scale=1, elem_id="sub-check")
        delete_btn = gr.Button("删除订阅", variant="stop", scale=1, elem_id="sub-delete")
    news = gr.HTML("", elem_id="sub-news")
    save_btn.click(save, [source, chat_state, staff_report, email, webhook], [new_token, saved])
    check_btn.click(whats_new, token, news)
    delete_btn.click(remove, token, news)
