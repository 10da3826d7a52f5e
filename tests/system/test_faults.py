"""Faults while the real app runs: the Chroma server stops and comes back, a policy file is broken and fixed.

Both run `python app.py` in a subprocess (tests/support/apprunner.py) and talk to it with gradio_client, as a
browser session does: the point is what a user of the running service sees, and that the service heals
without a restart. (An ingest killed half-way is tests/search/test_ingest.py::test_crash_mid_ingest_keeps_previous_generation:
kill -9 at the worst moment, the previous generation keeps serving, the next run cleans up and completes.)
"""
from __future__ import annotations

import html
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from apprunner import ChromaServer, chroma_server, running_app

pytestmark = pytest.mark.slow

TURN_TIMEOUT_S = 120.0   # the first turn may wait for the model, which the app loads in the background
QUESTION = "稳岗返还怎么申请？"
ADMIN = ("kb-admin", "a-long-test-password-许昌")
STALL_MARGIN_S = 5.0     # the rest of the turn, on a busy machine
SMALL_CORPUS = ("facts/cn_unemployment_insurance_job_stability.md", "facts/cn_2023_19_small_scale_vat.md")
_VERDICT = re.compile(r'class="pc-item pc-item-(\w+)" data-policy="(\w+)"')


# ---------------------------------------------------------------- helpers

@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    with chroma_server(tmp_path / "chroma") as server:
        yield server


def _text(message: dict[str, Any]) -> str:
    """A chatbot message's text (Gradio 6 sends content as a list of typed parts)."""
    content = message.get("content")
    parts = content if isinstance(content, list) else [{"text": content}]
    return "".join(str(p.get("text") or "") for p in parts if isinstance(p, dict))


CITED = "[\\[1\\]](#pc-cite?"   # an answer's [1]: a Markdown link to its clause


class Turn(NamedTuple):
    reply: str                  # the assistant's message
    rows: dict[str, str]        # the profile table, label → value
    verdicts: dict[str, str]    # policy id → status, from the results panel
    results: str                # the results panel's HTML


def _say(client: Any, message: str) -> Turn:
    """One chat turn through the app's API, as the page sends it."""
    history, _box, results, table, _answer, _notice, _multi = client.submit(message, api_name="/send").result(
        timeout=TURN_TIMEOUT_S)
    rows = {html.unescape(a): html.unescape(b)   # the profile list's label/value rows
            for a, b in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", table if isinstance(table, str) else "")}
    results = results if isinstance(results, str) else ""    # a failed turn leaves the panel as it was
    return Turn(_text(history[-1]), rows, {pid: status for status, pid in _VERDICT.findall(results)}, results)


# ---------------------------------------------------------------- the Chroma server stops mid-session

def test_chroma_server_stops_and_comes_back(chroma: ChromaServer, tmp_path: Path, project_root: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The app runs against `chroma run`. While the server is down a question gets a plain "try later" and
    profile answers still match (matching needs no index); once the server is back on the same port and
    folder, the next question is answered again by the same app process. A stalled server (SIGSTOP: it
    accepts connections and never answers) gives the same message within the query timeout, not a hang."""
    from gradio_client import Client

    from calculator.search.index import SERVER_QUERY_TIMEOUT_S, build

    docs = tmp_path / "docs"
    for relative in SMALL_CORPUS:
        (docs / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(project_root / "knowledge" / "docs" / relative, docs / relative)
    # DENSE_SEARCH=always: the bundled model cannot read the Chinese question, which would otherwise skip the server
    server_env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma.port), "DENSE_SEARCH": "always"}
    for name, value in {"DATA_DIR": str(tmp_path / "data"), **server_env}.items():
        monkeypatch.setenv(name, value)
    assert build(docs).passages > 0

    with running_app(tmp_path / "data", tmp_path / "app", **server_env) as app:
        client = Client(app.url, verbose=False, download_files=False)
        turn = _say(client, QUESTION)
        assert CITED in turn.reply and "稳岗" in turn.reply, turn.reply

        chroma.stop()
        turn = _say(client, QUESTION)
        assert "检索服务暂时不可用" in turn.reply and "政策匹配不受影响" in turn.reply, turn.reply
        assert CITED not in turn.reply and "127.0.0.1" not in turn.reply and "Chroma" not in turn.reply
        turn = _say(client, "我们是长葛市的制造业企业，员工50人，资产1500万，应纳税所得额200万")
        assert turn.rows["从业人数"] == "50人" and turn.rows["所在区县"] == "长葛市", turn.rows
        assert turn.verdicts["small_low_profit_cit"] == "eligible", turn.verdicts

        chroma.start()
        turn = _say(client, QUESTION)
        assert CITED in turn.reply and "稳岗" in turn.reply, turn.reply
        assert turn.rows["从业人数"] == "50人"                   # the session lived through it

        chroma.pause()                                          # stalled rather than gone: must not hang the turn
        began = time.perf_counter()
        turn = _say(client, QUESTION)
        assert "检索服务暂时不可用" in turn.reply, turn.reply
        assert time.perf_counter() - began < SERVER_QUERY_TIMEOUT_S + STALL_MARGIN_S
        assert _say(client, "员工60人").rows["从业人数"] == "60人"
        chroma.resume()
        turn = _say(client, QUESTION)
        assert CITED in turn.reply and "稳岗" in turn.reply, turn.reply
        assert app.process.poll() is None                       # the same process: no restart
        log = app.log()
    assert "search service unavailable" in log and "Traceback" not in log, log[-3000:]


# ---------------------------------------------------------------- a policy file is broken while the app runs

FACTORY = "我们是魏都区的制造业企业，员工50人，去年营收2000万，资产1500万，应纳税所得额200万，小规模纳税人"
RENAMED = "“六税两费”减半征收（本次修订）"


def test_broken_catalog_keeps_the_last_good_one_until_fixed(built_index: Path, tmp_path: Path,
                                                           project_root: Path) -> None:
    """A policy file saved half-edited: verdicts stay those of the last good catalog, the admin's catalog
    check names the file and the field; once the file is fixed the app serves the new catalog, unrestarted."""
    from gradio_client import Client

    knowledge = tmp_path / "knowledge"
    shutil.copytree(project_root / "knowledge", knowledge, ignore=shutil.ignore_patterns("uploads"))
    item = knowledge / "policies" / "six_taxes_two_fees.yaml"
    good = item.read_text(encoding="utf-8")
    with running_app(built_index, tmp_path / "app", KNOWLEDGE_DIR=str(knowledge), ADMIN_USER=ADMIN[0],
                     ADMIN_PASSWORD=ADMIN[1]) as app:
        client = Client(app.url, verbose=False, download_files=False)
        before = _say(client, FACTORY).verdicts
        assert before["six_taxes_two_fees"] == "eligible" and len(before) > 20, before
        admin = Client(app.url + "admin/", auth=ADMIN, verbose=False, download_files=False)
        assert "校验通过" in admin.predict(api_name="/catalog_check")

        item.write_text(good.replace("level: national", "level: provincial"), encoding="utf-8")
        fresh = _say(Client(app.url, verbose=False, download_files=False), FACTORY)
        assert fresh.verdicts == before and "抱歉" not in fresh.reply  # a new session: the last good catalog
        assert _say(client, "去年营收2000万").verdicts == before       # and the running one
        report = admin.predict(api_name="/catalog_check")
        assert "政策库校验未通过" in report and "仍在使用上一次有效的政策库" in report, report
        assert "six_taxes_two_fees.yaml" in report and "<td>level</td>" in report, report

        item.write_text(good.replace("title: “六税两费”减半征收", f"title: {RENAMED}"), encoding="utf-8")
        turn = _say(client, "去年营收2000万")
        assert turn.verdicts == before and RENAMED in turn.results  # the fixed file is what is served now
        assert "校验通过" in admin.predict(api_name="/catalog_check")
        assert app.process.poll() is None
