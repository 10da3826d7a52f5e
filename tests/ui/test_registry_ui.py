"""登记表测算 in the officials' tab: off the request thread, one at a time, results shown and downloadable,
an uploaded register only behind the admin login."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calculator.registry import jobs
from calculator.ui import registry


class _Request:
    def __init__(self, username: str | None) -> None:
        self.username = username


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setattr(jobs, "SAMPLE_ROWS", 1200)
    monkeypatch.setattr(jobs, "_last", {})
    yield tmp_path
    jobs.wait(jobs.PUBLIC)   # never leave a run going behind the next test
    jobs.wait(jobs.ADMIN)


def _visible(update: Any) -> bool:
    return isinstance(update, dict) and update.get("visible") is True


def test_the_sample_runs_in_the_background_and_shows_every_table(sample: Path) -> None:
    views = registry.start_sample("2026-11-23")
    assert "<progress" in views[0] or "已完成" in views[0]
    assert jobs.wait(jobs.PUBLIC).state == jobs.DONE
    status, _, summary, gaps, coverage, words, plot, whatif, files = registry.poll_sample()
    assert "✓ 已完成" in status and "1,200 行" in status
    assert _visible(summary) and summary["value"][0][1] == "免申即享" and _visible(gaps) and _visible(coverage)
    assert not _visible(plot) and not _visible(whatif)
    names = {Path(f).name for f in files["value"]}
    assert any(n.endswith("summary.csv") for n in names) and any(n.endswith("outreach.zip") for n in names)
    assert all(Path(f).exists() for f in files["value"])


def test_a_what_if_shows_the_comparison_and_its_plot(sample: Path) -> None:
    choices = dict((name, label) for label, name in registry.parameter_choices())
    assert choices["cit.small_low_profit_employees_cap"].startswith("小型微利企业从业人数上限")   # shown in Chinese
    registry.start_sample("2026-11-23", "cit.small_low_profit_employees_cap", 100)
    assert jobs.wait(jobs.PUBLIC).state == jobs.DONE
    *_, words, plot, whatif, files = registry.poll_sample()
    assert _visible(words) and "不再符合" in words["value"] and _visible(plot) and _visible(whatif)
    assert "小型微利企业从业人数上限 改为 100人" in words["value"] and "cit." not in words["value"]
    assert Path(plot["value"]).read_bytes()[:4] == b"\x89PNG"


def test_a_second_run_is_refused_and_chat_is_not_blocked(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow(request: Any, progress: Any = None, catalog: Any = None) -> Any:
        progress(0.3, "逐户判定")
        release.wait(30)
        raise RuntimeError("stopped by the test")
    monkeypatch.setattr("calculator.registry.batch.run_batch", slow)
    registry.start_sample("")
    time.sleep(0.2)
    refused = registry.start_sample("")
    assert "已有一项测算正在运行" in refused[0] and "30%" in refused[0]
    from calculator.dialogue.chat import new_session, respond

    started = time.perf_counter()
    state, _ = new_session()
    respond(state, "我们是建安区的制造企业，员工85人")
    assert time.perf_counter() - started < 5    # the run holds no lock the chat needs
    release.set()
    assert jobs.wait(jobs.PUBLIC).state == jobs.FAILED
    assert "stopped by the test" not in registry.poll_sample()[0]   # an internal error's text is never shown


def test_an_uploaded_register_needs_the_admin_login(sample: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    upload = tmp_path / "登记.csv"
    upload.write_text("统一社会信用代码,企业名称,从业人数\n91411000MA00000013,许昌真名有限公司,85\n", encoding="utf-8")
    monkeypatch.delenv("ADMIN_USER", raising=False)
    assert "请先登录" in registry.start_upload([str(upload)], None, "", None, None, _Request("admin"))[0]
    monkeypatch.setenv("ADMIN_USER", "admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "secret-for-tests")
    assert "请先登录" in registry.start_upload([str(upload)], None, "", None, None, _Request(None))[0]
    registry.start_upload([str(upload)], None, "2026-11-23", None, None, _Request("admin"))
    assert jobs.wait(jobs.ADMIN).state in (jobs.DONE, jobs.FAILED)
    assert "许昌真名" not in registry.poll_sample()[0] and jobs.status(jobs.PUBLIC).result is None
    assert "请先登录" in registry.poll_upload(_Request(None))[0]


def test_a_bad_date_is_one_line(sample: Path) -> None:
    assert "年-月-日" in registry.start_sample("2026/13/1")[0]
    assert "新数值" in registry.start_sample("2026-11-23", "cit.small_low_profit_employees_cap", None)[0]
