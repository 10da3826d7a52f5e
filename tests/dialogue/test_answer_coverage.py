"""`coverage: full | partial | none` and answers a person reads on a phone, on everyday questions written by others.

tests/data/everyday_{questions,out_of_scope,partial}.jsonl are copies of the issue-12 evaluation sets (their
README: /work/notes/retrieval/README.md). Each row has `split`: the coverage rules were built looking at
`tune` only; `heldout` is reported separately (pytest -s) and guarded by a looser floor, never tuned on.
Questions about a document this knowledge folder does not hold are left out (the law corpus adds them).
Expected labels: questions → full, out of scope → none, partial → partial.
"""
from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from paths import DATA, KNOWLEDGE

pytestmark = pytest.mark.slow

SETS = {"questions": "full", "out_of_scope": "none", "partial": "partial"}
LABELS = ("full", "partial", "none")
MARK = re.compile(r"\[\d+\]")


def _rows() -> list[dict[str, Any]]:
    held = {p.stem for p in (KNOWLEDGE / "docs").rglob("*") if p.is_file()}
    rows = []
    for name, expected in SETS.items():
        for line in (DATA / f"everyday_{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows.append({**row, "set": name, "expected": expected, "held": row.get("doc", "") in held or "doc" not in row})
    return rows


@pytest.fixture(scope="module")
def answered(built_index: Path) -> list[tuple[dict[str, Any], Any]]:
    """ask() for every row (one pass shared by the tests below)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(built_index))
        from calculator.dialogue.answer import ask

        return [(row, ask(row["q"])) for row in _rows()]


def _confusion(pairs: list[tuple[dict[str, Any], Any]]) -> tuple[float, str]:
    counts = Counter((row["expected"], answer.coverage) for row, answer in pairs)
    accuracy = sum(counts[(label, label)] for label in LABELS) / len(pairs)
    table = "; ".join(f"{e} → " + " ".join(f"{g} {counts[(e, g)]}" for g in LABELS) for e in LABELS)
    return accuracy, table


def test_coverage_labels(answered: list[tuple[dict[str, Any], Any]]) -> None:
    scored = {split: [(r, a) for r, a in answered if r["split"] == split and r["held"]] for split in ("tune", "heldout")}
    results = {split: _confusion(pairs) for split, pairs in scored.items()}
    for split, (accuracy, table) in results.items():
        print(f"\ncoverage {split} ({len(scored[split])}): accuracy {accuracy:.3f}; {table}")
    assert len(scored["tune"]) >= 120 and len(scored["heldout"]) >= 60
    # floors rechecked on the 60-document corpus (2026-12-01: tune 0.824, held-out 0.796; on 27 documents 0.875 / 0.833):
    # the new official texts name more of what out-of-scope and partial questions mention (幼儿园保育费, 核定征收)
    assert results["tune"][0] >= 0.80
    assert results["heldout"][0] >= 0.75    # a regression guard, not a target it was tuned to


def test_every_label_keeps_its_promise(answered: list[tuple[dict[str, Any], Any]]) -> None:
    """none cites nothing; partial and full cite; found is whether anything is cited; markers match citations."""
    for _, answer in answered:
        assert answer.coverage in LABELS
        assert answer.found == bool(answer.citations)
        assert (answer.coverage == "none") == (not answer.citations), answer.answer
        assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == set(range(1, len(answer.citations) + 1))


def test_out_of_scope_tune_rows_are_refused(answered: list[tuple[dict[str, Any], Any]]) -> None:
    rows = [(r, a) for r, a in answered if r["set"] == "out_of_scope" and r["split"] == "tune"]
    refused = [r["id"] for r, a in rows if a.coverage == "none"]
    print(f"\nout of scope, tune: refused {len(refused)}/{len(rows)}; answered "
          f"{[r['q'] for r, a in rows if a.coverage != 'none']}")
    assert len(refused) / len(rows) >= 0.70   # 24/34 on the 60-document corpus (2026-12-01); see README Known limits
    for row, answer in rows:
        if row["why"] == "other city" and answer.coverage == "none":
            assert "许昌市、河南省和国家层面" in answer.answer


def test_partial_answers_name_the_document_say_what_is_missing_and_whom_to_ask(
        answered: list[tuple[dict[str, Any], Any]]) -> None:
    rows = [(r, a) for r, a in answered if r["set"] == "partial" and r["split"] == "tune" and r["held"]]
    partial = [(r, a) for r, a in rows if a.coverage == "partial"]
    print(f"\npartial, tune: {len(partial)}/{len(rows)} labelled partial")
    assert len(partial) / len(rows) >= 0.3    # 5/16 on the 60-document corpus: most others are answered as full
    for row, answer in partial:
        first, second = answer.answer.splitlines()[:2]
        assert ("没有收录" in first or "没有写明" in first) and MARK.search(first), answer.answer
        assert second.startswith("请向") and second.endswith("咨询。"), answer.answer
        assert row["doc"] in {c["doc_id"] for c in answer.citations}, (row["id"], answer.citations)


def test_talent_apartments_rents_are_not_held(index_env: Path) -> None:
    """The issue's example: the corpus names 人才公寓 but holds no rent; the answer says so, naming its source."""
    from calculator.dialogue.answer import ask

    answer = ask("许昌的人才公寓租金多少钱一个月？")
    assert answer.coverage == "partial" and answer.found and len(answer.citations) == 1
    assert "“人才公寓”" in answer.answer and "没有收录具体金额" in answer.answer
    assert "人才公寓" in answer.citations[0]["quote"] and "请向人才工作部门" in answer.answer


def test_a_notice_that_ran_out_before_the_year_asked_is_partial_and_a_future_year_is_none(index_env: Path) -> None:
    from calculator.dialogue.answer import ask

    ran_out = ask("2026年稳岗返还还能申请吗？返还比例是多少？")
    assert ran_out.coverage == "partial" and "只到2025年12月31日" in ran_out.answer.splitlines()[0]
    assert "2025年12月31日" in ran_out.citations[0]["quote"]
    future = ask("2028年以后小规模纳税人的增值税起征点是多少？")
    assert future.coverage == "none" and not future.citations and "2028年" in future.answer


def test_a_programme_word_is_not_a_place_and_other_henan_cities_are(index_env: Path) -> None:
    """jieba tags 安家 (of 安家补贴) as a place: the programme's amounts are partial, not another city's policy.
    周口 and 开封 are ordinary words to jieba, yet other cities (chat_words.yaml `other_places`)."""
    from calculator.dialogue.answer import ask

    talent = ask("许昌英才计划引进博士，给多少安家补贴？")
    assert talent.coverage == "partial" and "许昌英才计划" in talent.answer and "安家的地方政策" not in talent.answer
    for city in ("周口", "开封市"):
        answer = ask(f"在{city}开店有什么补贴？")
        assert answer.coverage == "none" and not answer.citations and city in answer.answer


def test_an_invented_programme_in_quotes_is_not_found(index_env: Path) -> None:
    from calculator.dialogue.answer import ask

    answer = ask("许昌“莲城小巨人”企业的奖励标准是什么？")
    assert answer.coverage == "none" and not answer.citations and "莲城小巨人" in answer.answer


def test_hostile_prompts_are_refused_and_change_nothing(index_env: Path) -> None:
    from calculator.dialogue.answer import NOT_SEARCHED, ask
    from calculator.dialogue.chat import ChatState, respond

    rows = [r for r in _rows() if r.get("why") == "hostile"]
    assert len(rows) >= 8
    for row in rows:
        answer = ask(row["q"])
        assert (answer.coverage, answer.citations, answer.dense) == ("none", [], NOT_SEARCHED), row["q"]
        assert not re.search(r"\d+万", answer.answer)
        state, reply = respond(ChatState(profile={"employees": 20}), row["q"])
        assert reply.route == "refused" and state.profile == {"employees": 20}, row["q"]


# ---------------------------------------------------------------- answers a person reads on a phone

def test_the_first_two_lines_state_the_fact_with_its_marker(answered: list[tuple[dict[str, Any], Any]]) -> None:
    full = [(r, a) for r, a in answered if r["split"] == "tune" and a.coverage == "full"]
    for _, answer in full:
        assert MARK.search("\n".join(answer.answer.splitlines()[:2])), answer.answer
        assert answer.answer.count("**") <= 2, answer.answer   # at most one card; other items by title
    key_first = sum(_squash(r["key"]) in _squash("".join(a.answer.splitlines()[:2])) for r, a in full if "key" in r)
    print(f"\nfull answers (tune): {len(full)}; the key phrase in the first two lines: {key_first}")


def _squash(text: str) -> str:
    return "".join(text.split())


def test_answer_length(answered: list[tuple[dict[str, Any], Any]]) -> None:
    """The issue's measure: the median answer (before the citations) at most 400 characters."""
    tune = [a for r, a in answered if r["set"] == "questions" and r["split"] == "tune"]
    lengths = sorted(len(a.answer) for a in tune)
    found = sorted(len(a.answer) for a in tune if a.found)
    print(f"\nanswer length, tune questions ({len(tune)}): median {statistics.median(lengths):.0f}, "
          f"p90 {lengths[int(0.9 * len(lengths))]}, max {lengths[-1]}; answered ones ({len(found)}): "
          f"median {statistics.median(found):.0f}")
    assert statistics.median(lengths) <= 400 and statistics.median(found) <= 400


def test_a_fact_question_gets_the_fact_and_an_item_question_its_card(index_env: Path) -> None:
    from calculator.dialogue.answer import ask

    fact = ask("职工教育经费按工资总额多少比例扣除？")
    assert fact.coverage == "full" and fact.answer.count("**") == 0
    assert "2.5%" in fact.answer.splitlines()[0] and "[1]" in fact.answer.splitlines()[0]
    card = ask("小型微利企业有什么优惠？")
    first = card.answer.splitlines()[0]
    assert card.coverage == "full" and first.startswith("**小型微利企业") and "[1]" in first
    assert any(line.startswith("- 方式：免申即享") for line in card.answer.splitlines())
