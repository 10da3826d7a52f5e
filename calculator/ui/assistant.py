"""智能问答: the chat that interviews the enterprise, shows what it understood and what it qualifies for.

All conversation logic is calculator.dialogue.chat (pure, no Gradio); these handlers turn its `Reply` into
component values. Per-user data lives in this session's gr.State values (the chat state
`ChatState.to_dict()`, the message history, the last report for export) and in one gr.BrowserState, the
browser's own encrypted copy of history and chat state, so a reload (or a server restart: its key and secret
are fixed settings) continues the conversation; "重新开始" and the service hall's "下一位" overwrite it.
The profile is a list of label/value rows (readable at 390 px, where a two-column table was not) with one
edit action under it: pick the item, type the new value.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gradio as gr

from calculator.core.config import get_settings
from calculator.dialogue import chat
from calculator.dialogue.chat import ChatState, Reply
from calculator.facts.schema import default_schema
from calculator.present.html import (
    NO_INDEX_NOTICE,
    answer_html,
    link_markers,
    notice_html,
    profile_html,
    results_html,
)
from calculator.ui.common import cited_html, error_html, friendly, index_ready, user_message
from calculator.ui.exports import FORMAT_LABELS, export_sheet
from calculator.ui.forms import profile_rows, rows_to_updates

QUICK_SLOTS = 12  # the longest quick-reply list (行业) has 12 entries
# Chat turns from all sessions share this many workers (Gradio's default is one per event). A turn is
# ~10 ms of CPU without an LLM, so on 2 cores more workers change nothing there (50 sessions × 5 turns:
# p95 6–10 s either way, all queueing); but with the optional LLM a turn mostly waits for the model, and
# one worker makes every user wait for everyone's LLM calls: with a 0.5 s stub, p95 25 s with 1 worker,
# 7.6 s with 4 (tests/system/test_load.py).
CHAT_CONCURRENCY = 4
CHAT_EVENTS: dict[str, Any] = {"concurrency_limit": CHAT_CONCURRENCY, "concurrency_id": "chat"}
MAX_MESSAGE_CHARS = chat.MAX_MESSAGE_CHARS  # the chat reads no more (and says so); the history shows no more
EMPTY_RESULTS = "回答几个问题后，这里会列出可享受的政策、估算金额和依据条款。"
SINGLE_ANSWERS = ("都没有", "不清楚")  # answers to a set question that exclude picking members
SAVED_MESSAGES = 80        # what the browser keeps of the history (the newest); a message is clipped like a turn
SAVED_VERSION = 1

# The outputs every conversational handler returns, in this order (see `_view`): history, chatbot,
# textbox, chat state, report, results, profile table, answer panel, notice, multi-choice, its 确定 button,
# then the QUICK_SLOTS quick-reply buttons.
FIXED_OUTPUTS = 11


def _reply_controls(reply: Reply | None) -> list[Any]:
    """The multi-choice box (for a set question such as 资质) and the quick-reply buttons for this reply.

    A set question gets check boxes for its members and one 确定 that sends the picked labels joined by
    "、" (what the chat expects); its single-click answers (都没有, 不清楚) stay buttons.
    """
    question = getattr(reply, "question", None)
    replies = list(getattr(reply, "quick_replies", None) or [])
    if question is not None and question.multiple:
        members = [c for c in question.choices if c in question.quick_replies and c not in SINGLE_ANSWERS]
        replies = [r for r in replies if r not in members]
        controls = [gr.update(choices=members, value=[], visible=True), gr.update(visible=True)]
    else:
        controls = [gr.update(choices=[], value=[], visible=False), gr.update(visible=False)]
    shown = replies[:QUICK_SLOTS]
    return controls + [gr.update(value=shown[i], visible=True) if i < len(shown) else gr.update(value="", visible=False)
                       for i in range(QUICK_SLOTS)]


def _view(history: list[dict[str, Any]], state: ChatState, reply: Reply, report: dict[str, Any] | None,
          clear_answer: bool = False) -> list[Any]:
    """Component values after a turn. Panels change only when the reply brings something for them: the
    results with a new report, the sources with a new answer (a plain profile answer keeps the last one)."""
    profile = state.to_dict().get("profile") or {}
    new_report = reply.report if reply.report is not None else report
    if reply.answer is not None:
        answer: Any = answer_html(reply.answer)
    else:
        answer = "" if clear_answer else gr.skip()
    return [
        history, history, "", state.to_dict(), new_report,
        results_html(new_report, EMPTY_RESULTS) if reply.report is not None else gr.skip(),
        profile_html(profile_rows(profile)), answer, _notice(), *_reply_controls(reply),
    ]


def _notice() -> Any:
    """The no-index notice, shown only while there is no index (ingest may run while the app is up)."""
    ready = index_ready()
    return gr.update(value="" if ready else notice_html(NO_INDEX_NOTICE), visible=not ready)


def _say(history: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [*history, {"role": "assistant", "content": text}]


def _turn_failed(message: str, *args: Any) -> list[Any]:
    """Keep everything; add the error as the assistant's line (the user's words stay in the history)."""
    history = list(args[1] if len(args) > 1 and isinstance(args[1], list) else [])
    if args and isinstance(args[0], str) and args[0].strip():
        history.append({"role": "user", "content": args[0].strip()[:MAX_MESSAGE_CHARS]})
    history = _say(history, message)
    return [history, history, *([gr.skip()] * (FIXED_OUTPUTS - 2 + QUICK_SLOTS))]


def start() -> list[Any]:
    """A new conversation: the greeting and the first question (also "重新开始")."""
    try:
        state, reply = chat.new_session()
    except Exception as exc:
        history = _say([], user_message(exc, "start"))
        return [history, history, "", None, None, results_html(None, EMPTY_RESULTS), profile_html([]), "",
                _notice(), *_reply_controls(None)]
    return _view(_say([], reply.text), state, reply, None, clear_answer=True)


@friendly(_turn_failed)
def send(message: str, history: list[dict[str, Any]], state_dict: dict[str, Any] | None,
         report: dict[str, Any] | None) -> list[Any]:
    """One user turn (typed or a quick reply): the chat answers, results and profile update."""
    text = (message or "").strip()
    if not text:
        return [gr.skip()] * (FIXED_OUTPUTS + QUICK_SLOTS)
    # No state yet: an API client (which runs no page-load event) or a send racing the page load.
    state = chat.ChatState.from_dict(state_dict) if state_dict else chat.new_session()[0]
    state, reply = chat.respond(state, text)
    said = reply.text
    if reply.answer and reply.answer.get("found"):   # [n] opens the n-th clause in its context
        said = link_markers(said, list(reply.answer.get("citations") or []))
    history = [*history, {"role": "user", "content": text[:MAX_MESSAGE_CHARS]}, {"role": "assistant", "content": said}]
    return _view(history, state, reply, report)


@friendly(_turn_failed)
def send_choices(picked: list[str] | None, history: list[dict[str, Any]], state_dict: dict[str, Any] | None,
                 report: dict[str, Any] | None) -> list[Any]:
    """确定 under a multi-choice question: the picked labels as one message ("高新技术企业、科技型中小企业")."""
    return send("、".join(picked or []), history, state_dict, report)


@friendly(_turn_failed)
def edit_profile(label: str | None, text: str | None, history: list[dict[str, Any]],
                 state_dict: dict[str, Any] | None, report: dict[str, Any] | None) -> list[Any]:
    """The edit action under the profile: item `label` becomes `text` ("未知" or empty clears it); the
    results recompute and the chat says what changed (or why it was not saved)."""
    if not label:
        return _say_only(history, "请先选择要修改的项目。")
    profile = (state_dict or {}).get("profile") or {}
    updates = rows_to_updates([[label, text or ""]], profile)
    if not updates:
        return _say_only(history, f"{label}没有变化。")
    state, reply = chat.update_profile(chat.ChatState.from_dict(state_dict) if state_dict else chat.ChatState(),
                                       updates)
    return _view(_say(history, reply.text), state, reply, report)


def _say_only(history: list[dict[str, Any]], text: str) -> list[Any]:
    """A line from the assistant; nothing else changes."""
    said = _say(history, text)
    return [said, said, *([gr.skip()] * (FIXED_OUTPUTS - 2 + QUICK_SLOTS))]


def editable_labels() -> list[str]:
    """The items the edit action offers: every fact a user may state (not the parts that compose one,
    not the facts the law derives)."""
    return [spec.label for spec in default_schema().fields.values() if not spec.component and not spec.derived]


# ---------------------------------------------------------------- the browser's copy (survives a reload)

def saved_value(history: list[dict[str, Any]] | None, state_dict: dict[str, Any] | None) -> dict[str, Any]:
    """What the browser keeps: the newest messages and the chat state, stamped with the time. `{}` (not
    None, which Gradio would not write) when nothing may be kept."""
    if get_settings().browser_state_hours <= 0 or not state_dict:
        return {}
    return {"v": SAVED_VERSION, "at": time.time(), "state": state_dict,
            "history": list(history or [])[-SAVED_MESSAGES:]}


def _saved_history(raw: Any) -> list[dict[str, Any]] | None:
    """The stored history if it is what we wrote (role and text per message), else None."""
    if not isinstance(raw, list):
        return None
    history = []
    for m in raw[-SAVED_MESSAGES:]:
        if not (isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)):
            return None
        history.append({"role": m["role"], "content": m["content"][:4 * MAX_MESSAGE_CHARS]})
    return history or None


def restore(saved: Any) -> list[Any]:
    """Page load: the stored conversation when there is a fresh one (judged again today), else a new one."""
    hours = get_settings().browser_state_hours
    fresh = (isinstance(saved, dict) and saved.get("v") == SAVED_VERSION and isinstance(saved.get("at"), (int, float))
             and 0 <= time.time() - saved["at"] <= hours * 3600)
    history = _saved_history(saved.get("history")) if fresh else None
    if history is None or not isinstance(saved.get("state"), dict):
        return start()
    try:
        state, reply = chat.resume(saved["state"])
    except Exception as exc:
        user_message(exc, "restore")
        return start()
    return _view(history, state, reply, None, clear_answer=True)


@friendly(lambda message, *args: (gr.skip(), error_html(message)))
def export(report: dict[str, Any] | None, fmt: str) -> tuple[Any, str]:
    """(the sheet to download, message)."""
    return gr.update(value=export_sheet(report, fmt), visible=True), ""


def build(demo: gr.Blocks) -> tuple[gr.State, Callable[[gr.Button], None]]:
    """Lay out the chat tab in the current context and wire it (the stored conversation or a greeting on page
    load); returns the chat state and `reset(button)`, which makes another button (下一位) start afresh too."""
    settings = get_settings()
    saved = gr.BrowserState({}, storage_key=settings.browser_state_key, secret=settings.browser_state_secret)
    history = gr.State([])
    state = gr.State(None)
    report = gr.State(None)
    notice = gr.HTML("", visible=False, elem_id="chat-notice")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=340):
            chatbot = gr.Chatbot(label="政策助手", show_label=False, height=540, elem_id="chatbot", buttons=[],
                                 layout="bubble", group_consecutive_messages=False)
            with gr.Row(equal_height=False, elem_id="multi-row"):
                multi = gr.CheckboxGroup([], visible=False, label="可多选", show_label=False, scale=5,
                                         elem_id="multi-choice")
                multi_send = gr.Button("确定", visible=False, variant="primary", size="sm", scale=1, min_width=80,
                                       elem_id="multi-send")
            with gr.Row(elem_id="quick-replies"):
                quick = [gr.Button("", visible=False, size="sm", min_width=60, elem_classes=["pc-quick"])
                         for _ in range(QUICK_SLOTS)]
            with gr.Row(equal_height=True):
                box = gr.Textbox(placeholder="直接输入，例如：我们是长葛的小规模纳税人，每月卖个七八万；也可以随时提问",
                                 label="输入消息", show_label=False, scale=5, max_lines=4, elem_id="chat-input")
                go = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="chat-send")
            with gr.Row(equal_height=True):
                fmt = gr.Dropdown([(label, key) for key, label in FORMAT_LABELS.items()], value="pdf",
                                  label="导出格式", show_label=False, scale=1, min_width=110, elem_id="chat-format")
                export_btn = gr.Button("导出结果单", scale=1, min_width=100, elem_id="chat-export")
                restart = gr.Button("重新开始", variant="secondary", scale=1, min_width=100, elem_id="chat-restart")
            message = gr.HTML("", elem_id="chat-error")
            download = gr.File(label="结果单下载", interactive=False, visible=False, elem_id="chat-file")
            answer = cited_html("", cite_links=True, elem_id="chat-answer")
        with gr.Column(scale=2, min_width=320):
            with gr.Accordion("已了解的企业信息", open=True, elem_id="profile-panel"):
                profile = gr.HTML(profile_html([]), elem_id="profile-list")
                with gr.Row(equal_height=True, elem_id="profile-edit"):
                    field = gr.Dropdown(editable_labels(), value=None, label="修改哪一项", filterable=True,
                                        scale=2, min_width=140, elem_id="profile-field")
                    value = gr.Textbox(label="改为", placeholder="新内容；填“未知”可清除", max_lines=1, scale=2,
                                       min_width=140, elem_id="profile-value")
                    save = gr.Button("修改", scale=1, min_width=70, elem_id="profile-save")
            results = cited_html(results_html(None, EMPTY_RESULTS), elem_id="chat-results")

    outputs = [history, chatbot, box, state, report, results, profile, answer, notice, multi, multi_send, *quick]
    demo.load(restore, saved, outputs, api_name="start", **CHAT_EVENTS)
    gr.on([go.click, box.submit], send, [box, history, state, report], outputs, api_name="send", **CHAT_EVENTS)
    for button in quick:
        button.click(send, [button, history, state, report], outputs, api_visibility="undocumented", **CHAT_EVENTS)
    multi_send.click(send_choices, [multi, history, state, report], outputs, api_visibility="undocumented",
                     **CHAT_EVENTS)
    gr.on([save.click, value.submit], edit_profile, [field, value, history, state, report], outputs,
          api_name="edit_profile", **CHAT_EVENTS).then(lambda: "", None, value, api_visibility="private")
    history.change(saved_value, [history, state], saved, api_visibility="private")

    def reset(button: gr.Button) -> None:
        button.click(start, None, outputs, api_visibility="undocumented", **CHAT_EVENTS)

    reset(restart)
    chatbot.clear(start, None, outputs, api_visibility="undocumented", **CHAT_EVENTS)  # 🗑 also starts afresh
    export_btn.click(export, [report, fmt], [download, message], api_name="chat_export")
    return state, reset
