"""窗口办理: the whole profile as a form for a service-hall clerk; compute, print the sheet, next applicant.

Handlers are module functions over plain values (tested in tests/ui/test_app.py); `build` only lays out
components and wires them. The last report lives in the session's gr.State, nowhere else; an export
recomputes from the form, so a sheet can never carry the previous applicant.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from calculator.core.errors import UserError
from calculator.policy.catalog import load_catalog
from calculator.policy.match import match_profile
from calculator.present.html import results_html
from calculator.ui.common import cited_html, error_html, friendly
from calculator.ui.exports import FORMAT_LABELS, export_sheet
from calculator.ui.forms import BOOL_CHOICES, FormInput, form_inputs, values_to_profile

INPUTS: list[FormInput] = form_inputs()
EMPTY_RESULTS = "填写左侧企业信息后点击“计算”。未填写的项目按“未知”处理，相关政策会列为“需补充信息”。"
OPEN_GROUPS = 3  # 基本信息, 规模与财务, 税务 decide most items: open; the rest folded
PER_ROW = 3


def _keep_all_but_message(message: str, *args: Any) -> tuple[Any, ...]:
    # The form, the previous results, report and download stay as they were: only the message changes.
    return error_html(message), gr.skip(), gr.skip(), gr.skip()


@friendly(_keep_all_but_message)
def compute(*values: Any) -> tuple[Any, ...]:
    """Form values → (message box, results HTML, report for export, hidden download)."""
    profile = values_to_profile(INPUTS, list(values))
    report = match_profile(profile, catalog=load_catalog()).to_json()
    return "", results_html(report), report, gr.update(value=None, visible=False)


def _export_failed(message: str, *args: Any) -> tuple[Any, ...]:
    # No sheet at all rather than the previous one: the download is hidden, the results stay.
    return gr.update(value=None, visible=False), error_html(message), gr.skip(), gr.skip()


@friendly(_export_failed)
def export(fmt: str, *values: Any) -> tuple[Any, ...]:
    """(the sheet to download, message box, results HTML, report): the sheet is computed from the form as
    it is now, never from the last 计算 (a clerk may have typed the next applicant in since), and the
    results panel is brought up to date with it, so screen and paper say the same."""
    profile = values_to_profile(INPUTS, list(values))
    if not profile:
        raise UserError("表单是空的：请先填写申请人的企业信息", "the form is empty: fill in the applicant first")
    report = match_profile(profile, catalog=load_catalog()).to_json()
    return gr.update(value=export_sheet(report, fmt), visible=True), "", results_html(report), report


def next_applicant() -> list[Any]:
    """Everything back to empty: form, message, results, report and the download."""
    return [item.empty for item in INPUTS] + ["", results_html(None, EMPTY_RESULTS), None,
                                               gr.update(value=None, visible=False)]


def _component(item: FormInput) -> gr.components.Component:
    common: dict[str, Any] = {"label": item.label, "elem_id": f"staff-{item.key}", "min_width": 180}
    if item.kind == "choice":
        return gr.Dropdown(choices=list(item.choices), value=None, allow_custom_value=False, filterable=True, **common)
    if item.kind == "bool":
        return gr.Radio(choices=BOOL_CHOICES, value=item.empty, **common)
    if item.kind == "set":
        return gr.CheckboxGroup(choices=list(item.choices), value=[], **common)
    return gr.Textbox(value="", placeholder=item.hint, max_lines=1, **common)  # text, number, date


def build() -> tuple[gr.State, gr.Button]:
    """Lay out the staff tab inside the current Blocks/Tab context and wire its events; returns the report state
    and the 下一位 button (which also clears the chat's stored conversation: the PC is shared)."""
    report = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360):
            gr.Markdown("逐项填写申请人的企业信息（不知道的留空或选“未知”），然后点击**计算**。")
            components: list[gr.components.Component] = []
            groups = list(dict.fromkeys(item.group for item in INPUTS))
            for n, group in enumerate(groups):
                items = [item for item in INPUTS if item.group == group]
                with gr.Accordion(group, open=n < OPEN_GROUPS, elem_id=f"staff-group-{n}"):
                    for start in range(0, len(items), PER_ROW):
                        with gr.Row():
                            components.extend(_component(item) for item in items[start:start + PER_ROW])
        with gr.Column(scale=2, min_width=320):
            with gr.Row():
                calc = gr.Button("计算", variant="primary", elem_id="staff-calc")
                clear = gr.Button("下一位", variant="secondary", elem_id="staff-next")
            message = gr.HTML("", elem_id="staff-error")
            with gr.Row(equal_height=True):
                fmt = gr.Dropdown([(label, key) for key, label in FORMAT_LABELS.items()], value="pdf",
                                  label="导出格式", elem_id="staff-format", scale=1, min_width=120)
                export_btn = gr.Button("导出结果单", elem_id="staff-export", scale=1, min_width=120)
            download = gr.File(label="结果单下载", interactive=False, visible=False, elem_id="staff-file")
            results = cited_html(results_html(None, EMPTY_RESULTS), elem_id="staff-results")

    calc.click(compute, components, [message, results, report, download])
    export_btn.click(export, [fmt, *components], [download, message, results, report])
    clear.click(next_applicant, None, [*components, message, results, report, download])
    return report, clear
