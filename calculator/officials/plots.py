"""Figures for officials (matplotlib, rendered off-screen to PNG).

Chinese labels need a CJK font: the WenQuanYi Micro Hei file the Makefile installs is used when present,
else any installed font known to cover CJK; without one the figure still renders (labels may show as
boxes) and a warning says why, so a missing font never breaks the officials' tab.
"""
from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calculator.officials.coverage import CoverageReport

log = logging.getLogger(__name__)

CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
CJK_FONT_NAMES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC",
                  "SimHei", "Microsoft YaHei", "PingFang SC")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede the pyplot import
    import matplotlib.pyplot as plt

    return plt


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Register and return a font family that draws Chinese, or None (warned once)."""
    from matplotlib import font_manager

    for path in CJK_FONT_FILES:
        if path.exists():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    log.warning("no CJK font found (install fonts-wqy-microhei): Chinese labels may render as boxes")
    return None


def _style() -> dict[str, Any]:
    font = cjk_font()
    return {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def heatmap(report: "CoverageReport", path: Path | str | None = None) -> bytes:
    """划型行业 × 企业规模. Left: mean number of current policies a segment is eligible for (and, below it,
    how many more it could be); right: share of segments eligible for none (the gap), with the share no
    policy reaches at all when there is any. Returns the PNG bytes (also written to `path`)."""
    plt = _pyplot()
    grid = report.grid()
    rows, cols = grid["rows"], grid["columns"]
    summary = report.summary()
    with plt.rc_context(_style()):
        fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.46 * len(rows) + 2.6), sharey=True,
                                          gridspec_kw={"wspace": 0.22})
        eligible = left.imshow(grid["mean_eligible"], cmap="YlGn", aspect="auto", vmin=0)
        zero = right.imshow(grid["zero_eligible"], cmap="OrRd", aspect="auto", vmin=0, vmax=1)
        for i in range(len(rows)):
            for j in range(len(cols)):
                mean, could = grid["mean_eligible"][i][j], grid["mean_need_info"][i][j]
                _annotate(left, eligible, i, j, f"{mean:.2f}  (+{could:.1f})")
                gap = grid["gaps"][i][j]
                text = _percent(grid["zero_eligible"][i][j]) + (f"  无覆盖{_percent(gap)}" if gap else "")
                _annotate(right, zero, i, j, text)
        for axis in (left, right):
            axis.set_xticks(range(len(cols)), cols)
            axis.xaxis.tick_top()
            axis.tick_params(length=0)
        left.set_yticks(range(len(rows)), rows)
        left.set_title("平均确定符合的政策数（括号内：另有可能符合的）", fontsize=11, pad=28)
        right.set_title("没有任何确定符合政策的企业群占比", fontsize=11, pad=28)
        fig.colorbar(eligible, cax=left.inset_axes((1.02, 0, 0.035, 1)))
        fig.colorbar(zero, cax=right.inset_axes((1.02, 0, 0.035, 1)), format=lambda v, _: _percent(v))
        fig.suptitle(f"政策覆盖热力图（{report.today.isoformat()}，现行政策 {summary['policies_current']} 项，"
                     f"企业群 {summary['segments']} 个：区县×划型行业×规模×资质×纳税人类型）", fontsize=13)
        left.text(0, -0.02, _footnote(report), transform=left.transAxes, va="top", fontsize=9, color="#444",
                  linespacing=1.6)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _footnote(report: "CoverageReport") -> str:
    """How to read the cells, and where the segments with nothing certain concentrate on the dimensions
    the grid does not show (区县, 资质, 纳税人类型), so the picture answers "who is left out?"."""
    from calculator.officials.coverage import describe_contrast

    worst = [describe_contrast(c) for c in report.contrasts() if c["dimension"] not in ("size_group", "size_class")]
    lines = ["每格汇总该行业、规模下所有区县、资质和纳税人类型的企业群；每个企业群按代表性画像（规模指标取该档中间值，"
             "其余情况未知）逐项判断。"]
    if worst:
        lines.append("没有确定符合政策的企业群占比——" + "；".join(worst) + "。")
    return "\n".join(lines)


def _annotate(axis: Any, image: Any, i: int, j: int, text: str) -> None:
    """Cell text in black or white, whichever reads on the cell's colour."""
    red, green, blue, _ = image.cmap(image.norm(image.get_array()[i, j]))
    dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
    axis.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if dark else "black")
