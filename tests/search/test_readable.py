"""Dense search only when the model can read the query; torch and Chroma stay unimported otherwise."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apprunner import CLEARED, ROOT

from calculator.search.readable import DENSE_OFF, DENSE_UNREADABLE, DENSE_USED, dense_plan, unknown_share

CHINESE = ["稳岗返还返回来的那笔钱，企业可以用在哪些地方？", "小微企业所得税怎么减免", "高企认定要什么条件",
           "企业宁静日 那几天还会有人来检查吗", "许昌英才计划补贴多少钱", "科小入库有什么好处"]
ENGLISH = ["How much is the R&D super deduction?", "VAT exemption for small-scale taxpayers"]


def test_the_bundled_model_reads_no_chinese_question_and_every_english_one() -> None:
    for query in CHINESE:
        share = unknown_share(query, "bundled")
        assert share is not None and share > 0.5, (query, share)
        assert dense_plan(query, "bundled") == DENSE_UNREADABLE
    for query in ENGLISH:
        assert unknown_share(query, "bundled") == 0.0
        assert dense_plan(query, "bundled") == DENSE_USED


def test_the_setting_overrides_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENSE_SEARCH", "always")
    assert dense_plan(CHINESE[0], "bundled") == DENSE_USED
    monkeypatch.setenv("DENSE_SEARCH", "never")
    assert dense_plan(ENGLISH[0], "bundled") == DENSE_OFF
    monkeypatch.setenv("DENSE_SEARCH", "sometimes")
    from calculator.core.errors import UserError

    with pytest.raises(UserError, match="DENSE_SEARCH"):
        dense_plan(ENGLISH[0], "bundled")


def _wordpiece_model(folder: Path, vocabulary: list[str]) -> Path:
    """A model folder holding only a WordPiece tokenizer.json over `vocabulary` (stands in for a Chinese model)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tokenizer = Tokenizer(models.WordPiece({w: i for i, w in enumerate(["[UNK]", *vocabulary])}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(handle_chinese_chars=True)  # one piece per CJK character
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def test_a_chinese_model_reads_the_question_so_dense_search_runs(tmp_path: Path) -> None:
    chinese = _wordpiece_model(tmp_path / "zh", sorted(set("".join(CHINESE))))
    assert all(unknown_share(q, str(chinese)) == 0.0 and dense_plan(q, str(chinese)) == DENSE_USED for q in CHINESE)
    english = _wordpiece_model(tmp_path / "en", ["how", "much", "is", "the"])
    assert unknown_share(CHINESE[1], str(english)) == 1.0


def test_a_model_whose_tokenizer_cannot_be_found_keeps_dense_search(tmp_path: Path) -> None:
    (tmp_path / "no_tokenizer").mkdir()
    for model in (str(tmp_path / "no_tokenizer"), "not a repo id//"):
        assert unknown_share(CHINESE[0], model) is None and dense_plan(CHINESE[0], model) == DENSE_USED
    assert dense_plan(CHINESE[0], "BAAI/bge-small-zh-v1.5") == DENSE_USED  # a Chinese model, cached or not


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "calculator", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_an_unreadable_query_never_imports_torch_or_chroma(built_index: Path) -> None:
    code = ("import sys, json; from calculator.dialogue.answer import ask; a = ask(%r); "
            "print(json.dumps([a.dense, a.found, sorted(m for m in ('torch', 'chromadb', 'sentence_transformers', "
            "'scipy', 'jieba.posseg') if m in sys.modules)]))")
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DATA_DIR"] = str(built_index)
    run = subprocess.run([sys.executable, "-c", code % "稳岗返还资金可以用在哪些地方？"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == [DENSE_UNREADABLE, True, []]


@pytest.mark.slow
def test_the_json_says_whether_dense_search_ran(built_index: Path) -> None:
    chinese = _cli("search", "稳岗返还中小微企业返还比例", "--k", "3", "--json", data_dir=built_index)
    hits = json.loads(chinese.stdout)
    assert hits and all(h["dense"] == DENSE_UNREADABLE and h["dense_rank"] is None for h in hits)
    assert {"doc_id", "doc_title", "doc_number", "locator", "text", "score"} <= set(hits[0])
    english = json.loads(_cli("search", "the quick brown fox", "--k", "3", "--json", data_dir=built_index).stdout)
    assert all(h["dense"] == DENSE_USED and h["dense_rank"] for h in english)
    answer = json.loads(_cli("ask", "稳岗返还怎么申请？", "--json", data_dir=built_index).stdout)
    assert answer["dense"] == DENSE_UNREADABLE and answer["found"] and answer["citations"]
