"""政策覆盖 (officials): which enterprise groups no policy reaches, and which policies expire.

Everything shown is computed by calculator.officials.coverage / calculator.officials.calendar; this module only
chooses what fits on a page (the worst-covered segments first, the full table as CSV) and caches the
rendered heatmap per catalog fingerprint, since it is the same picture for every official.
"""
from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from calculator.core.errors import UserError
from calculator.ui.common import error_html, friendly
from calculator.ui.exports import export_dir

if TYPE_CHECKING:
    from calculator.officials.coverage import CoverageReport

CALENDAR_COLUMNS = ["状态", "标题", "到期日期", "剩余天数", "层级", "部门", "类别", "提示"]  # 编号 etc. stay in the CSV
WATCH_COLUMNS = ["日期", "类别", "事项", "名称", "说明", "涉及政策"]                     # 编号 stays in the CSV
GAP_FILTERS = {"无确定符合的群体": "zero_eligible", "完全无覆盖的群体": "gaps", "全部群体": "all"}
TABLE_ROWS = 500  # a page, not 8,448 segments: the CSV has them all
CALENDAR_DAYS = 90


@functools.lru_cache(maxsize=4)
def _heatmap_file(fingerprint: str, today: date) -> str:
    """The heatmap PNG for one catalog version and day, rendered once per process."""
    from calculator.officials.coverage import coverage_report
    from calculator.officials.plots import heatmap

    path = Path(export_dir()).parent / f"xuchang-coverage-{fingerprint[:16]}-{today.isoformat()}.png"
    heatmap(coverage_report(), path)
    return str(path)


def _write(data: bytes, name: str) -> str:
    path = export_dir() / name
    path.write_bytes(data)
    return str(path)


def _coverage_summary(report: CoverageReport) -> str:
    s = report.summary()
    lines = [
        f"**{report.today.isoformat()}**：按区县 × 划型行业 × 企业规模 × 资质 × 纳税人类型共 **{s['segments']:,}** 类企业群体，"
        f"对照 **{s['policies_current']}** 项现行政策（另有 {s['policies_not_current']} 项已到期或未生效，不计入）。",
        f"- 完全无政策覆盖（无符合、也无可能符合）的群体：**{s['gaps']:,}** 类",
        f"- 没有任何一项可确定符合的群体：**{s['zero_eligible']:,}** 类（平均每类确定符合 {s['mean_eligible']} 项、"
        f"可能符合 {s['mean_need_info']} 项）",
        f"- 不触达任何群体的政策：**{s['policies_unreached']}** 项；仅“可能符合”、从未确定符合的政策：{s['policies_never_eligible']} 项",
    ]
    return "\n".join(lines)


def _gap_rows(report: CoverageReport, which: str) -> list[dict[str, Any]]:
    """Table rows for the chosen filter, least covered first (rows() sorts)."""
    chosen = {"gaps": report.gaps, "zero_eligible": report.zero_eligible}.get(which)
    return report.rows(chosen() if chosen else None)


@friendly(lambda message, *args: (error_html(message), gr.skip(), gr.skip(), gr.skip()))
def show_coverage(which: str) -> tuple[Any, ...]:
    """(summary, heatmap path, gap table, CSV path) for the chosen filter."""
    from calculator.officials.coverage import coverage_report

    report = coverage_report()
    rows = _gap_rows(report, GAP_FILTERS.get(which, "zero_eligible"))
    shown = rows[:TABLE_ROWS]
    note = f"\n\n下表按“符合”项数从少到多列出前 {len(shown):,} 类（共 {len(rows):,} 类，点击表头可排序）；完整数据见 CSV。"
    headers = list(shown[0]) if shown else ["所在区县"]
    table = gr.update(value=[[r[h] for h in headers] for r in shown], headers=headers, visible=True)
    csv = gr.update(value=_write(report.to_csv(), f"覆盖情况-{report.today.isoformat()}.csv"), visible=True)
    heatmap = gr.update(value=_heatmap_file(report.fingerprint, report.today), visible=True)
    return _coverage_summary(report) + note, heatmap, table, csv


def _days(within_days: Any) -> int:
    """The days box as typed: empty means the default; anything but a whole number 1–3650 is one Chinese line.
    (The box has no min/max of its own: Gradio would answer those in English and blank the tables.)"""
    if within_days is None or within_days == "":
        return CALENDAR_DAYS
    try:
        days = float(within_days)
    except (TypeError, ValueError):
        days = 0.0
    if not (1 <= days <= 3650 and days == int(days)):
        raise UserError("天数应为 1～3650 之间的整数；下面仍是上一次的结果", "the number of days must be a whole number 1-3650")
    return int(days)


def _keep_view(message: str, *args: Any) -> tuple[Any, ...]:
    # the message above the section; the summary, table and CSV stay the last good ones
    return error_html(message), gr.skip(), gr.skip(), gr.skip()


@friendly(_keep_view)
def show_calendar(within_days: Any) -> tuple[Any, ...]:
    """(message, counts, calendar table, CSV path): items in force, expiring within N days, expired, not yet;
    doubtful texts."""
    from calculator.officials.calendar import STATE_LABEL, policy_calendar

    days = _days(within_days)
    calendar = policy_calendar(within_days=days)
    counts = calendar.counts()
    parts = [f"{label} **{counts.get(state, 0)}** 项" for state, label in STATE_LABEL.items()]
    summary = (f"截至 **{calendar.today.isoformat()}**（{days} 天内到期算“即将到期”）：" + "，".join(parts)
               + f"；依据文本存疑的政策 {counts['items_in_doubt']} 项，需核实的文档 {counts['documents_flagged']} 份。")
    rows = calendar.rows()
    table = gr.update(value=[[r.get(h, "") for h in CALENDAR_COLUMNS] for r in rows], headers=CALENDAR_COLUMNS,
                      visible=True)
    csv = _write(calendar.to_csv(), f"政策日历-{calendar.today.isoformat()}.csv")
    return "", summary, table, gr.update(value=csv, visible=True)


@friendly(_keep_view)
def show_law_watch(within_days: Any) -> tuple[Any, ...]:
    """(message, counts, table, CSV path): parameters and items that change, end or are unverified in the coming
    days (the same list as `python -m calculator catalog --as-of TODAY --within N`)."""
    from calculator.officials.law_watch import EVENT_LABEL, law_watch
    from calculator.policy.catalog import load_catalog

    days = _days(within_days)
    catalog = load_catalog()
    watch = law_watch(within_days=days, catalog=catalog)
    titles = {p.id: p.title for p in catalog.policies}
    counts = "，".join(f"{EVENT_LABEL[event]} **{n}** 项" for event, n in watch.counts().items() if n) or "无"
    summary = (f"**{watch.as_of.isoformat()} 至 {watch.until.isoformat()}**：{counts}。“待复核”表示有比参数最新数值更新的"
               "文件提到了它（按引文或文号判断），请人工核对。")
    rows = watch.rows(titles)
    table = gr.update(value=[[r[h] for h in WATCH_COLUMNS] for r in rows], headers=WATCH_COLUMNS, visible=True)
    csv = _write(watch.to_csv(titles), f"法规变动提示-{watch.as_of.isoformat()}.csv")
    return "", summary, table, gr.update(value=csv, visible=True)


def build() -> None:
    """Coverage and calendar sections inside the current tab; computed on request, not at start-up."""
    gr.Markdown("### 覆盖缺口：哪些企业群体没有政策触达")
    gr.Markdown("按企业类型组合（区县 × 行业 × 规模 × 资质 × 纳税人类型）的模拟网格估算；有登记表时，"
                "下方“登记表测算”按真实户数统计。", elem_classes=["pc-explain"])
    with gr.Row():
        which = gr.Radio(list(GAP_FILTERS), value="无确定符合的群体", label="显示", scale=3, elem_id="cov-filter")
        refresh = gr.Button("计算覆盖情况", variant="primary", scale=1, elem_id="cov-run")
    summary = gr.Markdown("点击“计算覆盖情况”（约需几秒）。", elem_id="cov-summary")
    heat = gr.Image(label="覆盖热力图（划型行业 × 企业规模）", show_label=False, type="filepath", interactive=False,
                    buttons=["download", "fullscreen"], visible=False, elem_id="cov-heatmap")
    table = gr.Dataframe(label="缺口表", interactive=False, wrap=True, max_height=420, visible=False, elem_id="cov-table")
    csv = gr.File(label="下载完整 CSV", interactive=False, visible=False, elem_id="cov-csv")
    refresh.click(show_coverage, which, [summary, heat, table, csv])
    which.change(show_coverage, which, [summary, heat, table, csv])

    gr.Markdown("### 政策日历：有效、即将到期、已到期、未生效，及依据文本存疑的文件")
    with gr.Row():
        days = gr.Textbox(value=str(CALENDAR_DAYS), label="即将到期的天数（1～3650）", max_lines=1, scale=1,
                          elem_id="cal-days")
        show = gr.Button("查看政策日历", variant="primary", scale=1, elem_id="cal-run")
    cal_message = gr.HTML("", elem_id="cal-error")
    cal_summary = gr.Markdown("", elem_id="cal-summary")
    cal_table = gr.Dataframe(label="政策日历", interactive=False, wrap=True, max_height=420, visible=False,
                             column_widths=["7%", "25%", "9%", "6%", "6%", "10%", "7%", "30%"], elem_id="cal-table")
    cal_csv = gr.File(label="下载 CSV（含编号等全部列）", interactive=False, visible=False, elem_id="cal-csv")
    gr.on([show.click, days.submit], show_calendar, days, [cal_message, cal_summary, cal_table, cal_csv])

    gr.Markdown("### 法规变动提示：未来这些天内数值变化、到期或无已核实数值的参数和政策")
    watch_message = gr.HTML("", elem_id="watch-error")
    watch_summary = gr.Markdown("", elem_id="watch-summary")
    watch_table = gr.Dataframe(label="法规变动提示", interactive=False, wrap=True, max_height=420, visible=False,
                               column_widths=["9%", "7%", "10%", "24%", "35%", "15%"], elem_id="watch-table")
    watch_csv = gr.File(label="下载 CSV（含编号）", interactive=False, visible=False, elem_id="watch-csv")
    gr.on([show.click, days.submit], show_law_watch, days, [watch_message, watch_summary, watch_table, watch_csv])

    from calculator.ui import registry

    registry.build_public()
