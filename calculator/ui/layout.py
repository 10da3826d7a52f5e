"""The public page: five tabs over the library. Building is a function so tests can inspect it unlaunched."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from calculator.ui import assistant, knowledge, officials, staff, subscribe

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


def build_app() -> gr.Blocks:
    """The whole public UI (not launched): 智能问答, 窗口办理, 订阅提醒, 政策覆盖, 知识库."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(HEADER)
        with gr.Tabs():
            with gr.Tab("智能问答", id="chat", elem_id="tab-chat"):
                chat_state = assistant.build(demo)
            with gr.Tab("窗口办理", id="staff", elem_id="tab-staff"):
                staff_report = staff.build()
            with gr.Tab("订阅提醒", id="subscribe", elem_id="tab-subscribe"):
                subscribe.build(chat_state, staff_report)
            with gr.Tab("政策覆盖", id="officials", elem_id="tab-officials"):
                officials.build()
            with gr.Tab("知识库", id="knowledge", elem_id="tab-knowledge"):
                knowledge.build()
        gr.HTML('<div class="pc-explain" style="text-align:right"><a href="/admin/">知识库管理（管理员）</a></div>')
    return demo
