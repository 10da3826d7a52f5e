"""登记表测算 in the officials' tab: coverage, data gaps, 政策测算 and outreach lists over a whole register.

The public page runs the bundled synthetic sample (no real enterprise); an uploaded register holds names
and codes, so it is run from the admin page behind its login. A run goes to `calculator.registry.jobs`
(off the request thread, one at a time) and the page polls it with a timer; everything shown comes from
the run's `BatchResult`, and the downloads are copies of the files the batch wrote.
"""
from __future__ import annotations

import shutil
import zipfile
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from calculator.core.errors import UserError
from calculator.registry import jobs
from calculator.ui.common import error_html, friendly
from calculator.ui.exports import export_dir

POLL_SECONDS = 1.0
SUMMARY_HEADERS = ["政策", "办理方式", "符合", "需补充信息", "不符合", "估算金额合计（万元）"]
GAP_HEADERS = ["事实", "数据持有部门", "等待该事实的判定", "仅差该事实的判定", "补齐后可确定的金额（万元）"]
COVERAGE_HEADERS = ["维度", "分组", "企业数", "没有确定符合政策", "占比", "完全无政策触达"]
WHATIF_HEADERS = ["政策", "现行符合", "测算后符合", "新增符合", "不再符合", "金额变化（万元）"]
OUTPUTS = 9   # status, timer, summary, gaps, coverage, what-if words, plot, what-if table, downloads


def _day(raw: str | None) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("测算日期应为 年-月-日，如 2026-12-01", "the date must be YYYY-MM-DD") from None


def _sets(parameter: str | None, value: float | None) -> list[str]:
    """The chosen parameter and its new value as a what-if change (none when either is left empty)."""
    if not parameter:
        return []
    if value is None:
        raise UserError("请填写参数的新数值", "give the parameter's new value")
    return [f"{parameter}={value:g}"]


def parameter_choices(today: date | None = None) -> list[tuple[str, str]]:
    """Numeric parameters in force on the day, shown by their Chinese description and value (their ids are
    what the dropdown returns, never what it shows)."""
    from calculator.core.config import get_settings
    from calculator.policy.catalog import load_catalog

    day = today or get_settings().today
    choices = []
    parameters = load_catalog().parameters
    for name in sorted(parameters.names()):
        parameter = parameters[name]
        current = parameter.on(day)
        if current is not None and isinstance(current.value, int | float) and not isinstance(current.value, bool):
            choices.append((f"{parameter.description}（现为 {current.value:g}{parameter.unit}）", name))
    return choices


def status_html(status: jobs.RunStatus, refused: bool = False) -> str:
    note = error_html("已有一项测算正在运行，请等它完成后再开始（每次只运行一项，以免影响其他用户）") if refused else ""
    if status.state == jobs.IDLE:
        return note + '<div class="pc-explain">尚未运行。</div>'
    if status.state == jobs.RUNNING:
        bar = f'<progress max="1" value="{status.progress}" style="width:60%"></progress>'
        return note + f'<div class="pc-results">{escape(status.stage)} {status.progress:.0%} {bar}（已用 {status.seconds} 秒）</div>'
    if status.state == jobs.FAILED:
        return note + error_html(status.error)
    result = status.result
    assert result is not None
    s = result.register
    return note + (f'<div class="pc-results">✓ 已完成（{result.today.isoformat()}，用时 {status.seconds} 秒）：读取 {s.rows_read:,} 行，'
                   f"{s.enterprises:,} 户企业，未使用 {s.rejected:,} 行，含无效值 {s.flagged:,} 行；判定 {result.verdict_rows:,} 条；"
                   f"预计可享受金额合计 {result.totals.low:,.2f}～{result.totals.high:,.2f} 万元（{result.totals.enterprises:,} 户）。</div>")


def _money(low: float, high: float) -> str:
    return f"{low:,.2f}" if round(low, 2) == round(high, 2) else f"{low:,.2f}～{high:,.2f}"


def result_views(status: jobs.RunStatus) -> list[Any]:
    """Tables, what-if words and plot, and the downloads of a finished run (hidden otherwise)."""
    hidden = gr.update(visible=False)
    result = status.result
    if status.state != jobs.DONE or result is None:
        return [hidden] * 7
    summary = [[c.title, c.mode, c.eligible, c.need_info, c.not_eligible, _money(c.amount_low, c.amount_high)]
               for c in sorted(result.counts, key=lambda c: (c.mode != "免申即享", -c.eligible))]
    gaps = [[g.label, g.holders, g.waiting, g.settled, _money(g.settled_low, g.settled_high)] for g in result.gaps[:40]]
    coverage = [[r.dimension, r.value, r.enterprises, r.no_eligible, f"{r.share_no_eligible:.1%}", r.unreached]
                for r in result.coverage]
    whatif_text, plot, whatif_rows = "", hidden, hidden
    if result.whatif is not None:
        w = result.whatif
        whatif_text = (f"**政策测算**：{escape(w.description)}。新增符合 **{sum(c.gained for c in w.changes):,}** 户，"
                       f"不再符合 **{sum(c.lost for c in w.changes):,}** 户，估算金额变化 **{w.amount_change:+,.2f}** 万元。"
                       "按区县、行业、规模的明细见下载的 whatif/by_group.csv。")
        png = Path(result.out) / "whatif" / "threshold.png"
        plot = gr.update(value=_copy(png, status.run_id), visible=True) if png.exists() else hidden
        whatif_rows = gr.update(value=[[c.title, c.before, c.after, c.gained, c.lost, f"{c.amount_after - c.amount_before:+,.2f}"]
                                       for c in w.changes], headers=WHATIF_HEADERS, visible=True)
    return [gr.update(value=summary, headers=SUMMARY_HEADERS, visible=True),
            gr.update(value=gaps, headers=GAP_HEADERS, visible=True),
            gr.update(value=coverage, headers=COVERAGE_HEADERS, visible=True),
            gr.update(value=whatif_text, visible=bool(whatif_text)), plot, whatif_rows,
            gr.update(value=downloads(result.out, status.run_id), visible=True)]


def _copy(path: Path, run_id: str) -> str:
    target = export_dir() / f"registry-{run_id}-{path.name}"
    shutil.copyfile(path, target)
    return str(target)


def downloads(out: str, run_id: str) -> list[str]:
    """The run's tables, and its outreach lists as one zip (copies in the export folder Gradio serves)."""
    folder = Path(out)
    files = [_copy(folder / name, run_id) for name in ("summary.csv", "data_gaps.csv", "coverage.csv", "register_issues.csv")
             if (folder / name).exists()]
    for name in ("whatif/summary.csv", "whatif/by_group.csv"):
        if (folder / name).exists():
            files.append(_copy(folder / name, f"{run_id}-whatif"))
    outreach = sorted((folder / "outreach").glob("*.xlsx")) if (folder / "outreach").is_dir() else []
    if outreach:
        bundle = export_dir() / f"registry-{run_id}-outreach.zip"
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in outreach:
                archive.write(path, f"outreach/{path.name}")
        files.append(str(bundle))
    return files


def _views(status: jobs.RunStatus, refused: bool = False) -> tuple[Any, ...]:
    timer = gr.Timer(active=status.state == jobs.RUNNING)
    return (status_html(status, refused), timer, *result_views(status))


def _failed(message: str, *args: Any) -> tuple[Any, ...]:
    return (error_html(message), gr.Timer(active=False), *([gr.skip()] * (OUTPUTS - 2)))


@friendly(_failed)
def start_sample(day: str | None, parameter: str | None = None, value: float | None = None) -> tuple[Any, ...]:
    """Run the bundled synthetic sample for the chosen day (and a changed parameter, if any)."""
    started = jobs.start([str(jobs.sample_register())], jobs.PUBLIC, _day(day), _sets(parameter, value))
    return _views(jobs.status(jobs.PUBLIC), refused=not started)


@friendly(_failed)
def poll_sample() -> tuple[Any, ...]:
    return _views(jobs.status(jobs.PUBLIC))


def _require_login(request: gr.Request | None) -> None:
    from calculator.admin import admin_enabled

    if not admin_enabled() or request is None or not getattr(request, "username", None):
        raise UserError("请先登录管理页面", "admin login required")


@friendly(_failed)
def start_upload(files: list[str] | None, draft: str | None, day: str | None, parameter: str | None,
                 value: float | None, request: gr.Request) -> tuple[Any, ...]:
    """Run uploaded extracts (登记, 纳税, 参保, 认定 …): admin only, since they hold names and codes."""
    _require_login(request)
    if not files:
        raise UserError("请先上传登记表文件（CSV、XLSX 或 Parquet）", "upload register files first")
    started = jobs.start([str(f) for f in files], jobs.ADMIN, _day(day), _sets(parameter, value),
                         Path(draft) if draft else None)
    return _views(jobs.status(jobs.ADMIN), refused=not started)


@friendly(_failed)
def poll_upload(request: gr.Request) -> tuple[Any, ...]:
    _require_login(request)
    return _views(jobs.status(jobs.ADMIN))


def _outputs() -> list[Any]:
    summary = gr.Dataframe(label="各项政策：符合 / 需补充信息 / 不符合（免申即享在前）", interactive=False, wrap=True,
                           max_height=380, visible=False, elem_classes=["pc-reg-summary"])
    gaps = gr.Dataframe(label="数据缺口：补齐哪项数据、由哪个部门提供，能确定多少判定", interactive=False, wrap=True,
                        max_height=380, visible=False, elem_classes=["pc-reg-gaps"])
    coverage = gr.Dataframe(label="覆盖：没有确定符合任何政策的企业（按区县、行业、规模）", interactive=False, wrap=True,
                            max_height=380, visible=False, elem_classes=["pc-reg-coverage"])
    words = gr.Markdown(visible=False)
    plot = gr.Image(label="决定性事实在阈值附近的分布", type="filepath", interactive=False, visible=False)
    whatif = gr.Dataframe(label="政策测算对比", interactive=False, wrap=True, visible=False)
    files = gr.File(label="下载（汇总、数据缺口、覆盖、推送名单）", file_count="multiple", interactive=False, visible=False)
    return [summary, gaps, coverage, words, plot, whatif, files]


def _change_inputs(prefix: str) -> tuple[gr.Dropdown, gr.Number]:
    """政策测算's inputs: one parameter of the law of the day and its new value (both may stay empty)."""
    parameter = gr.Dropdown(choices=parameter_choices(), value=None, label="政策测算：改一个参数（可空）", scale=2,
                            elem_id=f"{prefix}-param")
    value = gr.Number(label="改为", value=None, scale=1, elem_id=f"{prefix}-value")
    return parameter, value


def build_public() -> None:
    """The sample section inside the officials' tab."""
    gr.Markdown("### 登记表测算：按整份企业登记表判定（免申即享、精准推送、政策测算）")
    gr.Markdown(f"用内置的模拟样本（{jobs.SAMPLE_ROWS:,} 户，随机生成，不含真实企业）。真实登记表含企业名称和信用代码，"
                "请在[管理页面](/admin/)登录后上传。")
    with gr.Row():
        day = gr.Textbox(label="测算日期（如 2026-12-01，空为今天）", scale=1, elem_id="reg-day")
        parameter, value = _change_inputs("reg")
        run = gr.Button("运行测算", variant="primary", scale=1, elem_id="reg-run")
    status = gr.HTML(status_html(jobs.RunStatus()), elem_id="reg-status")
    timer = gr.Timer(POLL_SECONDS, active=False)
    outputs = [status, timer, *_outputs()]
    run.click(start_sample, [day, parameter, value], outputs)
    timer.tick(poll_sample, None, outputs)


def build_admin_section(max_mb: int) -> None:
    """The upload section of the admin page (behind its login)."""
    gr.Markdown("### 登记表测算（上传真实登记表）")
    gr.Markdown(f"可同时上传登记、纳税、参保、认定等多个文件（CSV/XLSX/Parquet，单个不超过 {max_mb} MB），"
                "按统一社会信用代码合并。可选：政策草案（YAML）或参数改动。结果含企业名称和代码，仅在本页显示。")
    files = gr.File(file_count="multiple", type="filepath", label="登记表文件", elem_id="admin-reg-files")
    draft = gr.File(type="filepath", label="政策草案 YAML（可选）", elem_id="admin-reg-draft")
    with gr.Row():
        day = gr.Textbox(label="测算日期（如 2026-12-01）", elem_id="admin-reg-day")
        parameter, value = _change_inputs("admin-reg")
        run = gr.Button("运行测算", variant="primary", elem_id="admin-reg-run")
    status = gr.HTML("", elem_id="admin-reg-status")
    timer = gr.Timer(POLL_SECONDS, active=False)
    outputs = [status, timer, *_outputs()]
    run.click(start_upload, [files, draft, day, parameter, value], outputs)
    timer.tick(poll_upload, None, outputs)
