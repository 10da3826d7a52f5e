"""`python -m calculator ingest [PATH]` (same as `python ingest.py [PATH]`): documents → passage index.

PATH (default: knowledge/docs) is the whole corpus: documents no longer under it leave the index.
A progress bar goes to stderr, then one summary line. A file that cannot be read gets one line naming
it and the reason; the rest is still ingested and the exit code is 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

STAGES = {"load": "加载向量模型 / loading the embedding model", "embed": "向量化 / embedding",
          "store": "写入索引 / storing"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", type=Path,
                        help="文档目录或文件（默认 knowledge/docs） / documents folder or file (default knowledge/docs)")


class _Bars:
    """One tqdm bar per stage on stderr (stdout stays the summary); a new stage closes the previous bar."""

    def __init__(self) -> None:
        self.stage = ""
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage == "load":  # no measurable progress while the model loads: say what is happening
                print(f"{STAGES[stage]} …", file=sys.stderr, flush=True)
            else:
                self.bar = tqdm(total=total, desc=STAGES.get(stage, stage), unit="段", file=sys.stderr,
                                dynamic_ncols=True)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    from calculator.search.index import build

    bars = _Bars()
    try:
        report = build(args.path, progress=bars)
    finally:
        bars.close()
    for failure in report.failures:
        print(f"跳过 {failure.path}：{failure.zh} / skipped {failure.path}: {failure.en}", file=sys.stderr)
    state = "索引已是最新" if report.up_to_date else f"新版本 {report.generation}"
    print(f"导入完成（{state}）：文档 {report.documents} 篇，段落 {report.passages} 段"
          f"（新向量化 {report.embedded}，复用 {report.reused}），用时 {report.seconds:.1f} 秒；"
          f"未变 {len(report.unchanged)}，更新 {len(report.changed)}，删除 {len(report.removed)}，失败 {len(report.failures)} / "
          f"ingested: {report.documents} documents, {report.passages} passages ({report.embedded} embedded, "
          f"{report.reused} reused) in {report.seconds:.1f} s; unchanged {len(report.unchanged)}, "
          f"updated {len(report.changed)}, removed {len(report.removed)}, failed {len(report.failures)}")
    return 1 if report.failures else 0
