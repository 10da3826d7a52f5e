"""Splitter: locators follow the document's structure, offsets are exact, sizes bounded, sentences whole."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from calculator.corpus.documents import Document, clean_text, load_corpus
from calculator.corpus.splitter import HARD_MAX_CHARS, MAX_CHARS, split


def _doc(text: str, doc_id: str = "t") -> Document:
    return Document(doc_id=doc_id, title="测试", text=clean_text(text), sha256="0", path="t.md")


@pytest.fixture(scope="module")
def corpus(project_root: Path):
    return load_corpus(project_root / "knowledge" / "docs")


def test_law_articles_get_chapter_and_article(corpus) -> None:
    passages = split(corpus["cn_law_enterprise_income_tax"])
    by_locator = {p.locator: p for p in passages}
    article = by_locator["第四章 › 第二十八条"]
    assert article.text.startswith("第二十八条 符合条件的小型微利企业，减按20％的税率征收企业所得税。")
    assert "国家需要重点扶持的高新技术企业" in article.text
    assert not any(p.text.startswith("##") for p in passages)  # headings live in locators


def test_outline_items_get_their_path(corpus) -> None:
    passages = split(corpus["002_1690bf6f2312edae"])
    locators = [p.locator for p in passages]
    assert "一、推动优化营商环境政策落实的主要做法 › (三)" in locators
    third = next(p for p in passages if p.locator.endswith("主要做法 › (三)"))
    assert third.text.startswith("(三)市场监管创新突破")


def test_sections_paragraphs_and_clauses() -> None:
    text = ("# 某某办法\n\n## 第一章 总则\n\n第一条 为了测试，制定本办法。\n\n本办法适用于本市。\n\n"
            "## 第二章 支持措施\n\n第二条 支持下列企业：\n\n（一）高新技术企业；\n\n（二）科技型中小企业。")
    passages = split(_doc(text))
    assert [p.locator for p in passages] == ["第一章 › 第一条", "第二章 › 第二条"]
    assert "第一条 为了测试" in passages[0].text and "本办法适用于本市。" in passages[0].text
    assert "（二）科技型中小企业。" in passages[1].text  # short items stay with their article


def test_outline_headings_and_items() -> None:
    text = ("一、总体要求\n\n（一）指导思想\n\n坚持稳中求进。\n\n二、主要任务\n\n"
            + "\n\n".join(f"（{n}）第{n}项任务。" + "落实责任，明确分工。" * 20 for n in "一二三"))
    locators = [p.locator for p in split(_doc(text))]
    assert locators == ["一、总体要求 › （一）指导思想", "二、主要任务 › （一）", "二、主要任务 › （二）",
                        "二、主要任务 › （三）"]


def test_news_paragraphs_are_numbered() -> None:
    paragraphs = [f"第{n}件事情已经办完了，效果很好。" * 12 for n in range(1, 5)]
    passages = split(_doc("\n\n".join(paragraphs)))
    assert passages[0].locator == "第1段" and passages[-1].locator.startswith("第") and passages[-1].locator.endswith("段")


def test_offsets_sizes_and_whole_sentences(corpus) -> None:
    sentence_end = re.compile(r"[。！？；!?;…”’」』）)|\]a-zA-Z0-9%％]$")
    for doc in corpus.values():
        passages = split(doc)
        assert [p.passage_id for p in passages] == [f"{doc.doc_id}#{n}" for n in range(1, len(passages) + 1)]
        for passage in passages:
            assert doc.text[passage.start:passage.end] == passage.text
            assert 0 < len(passage.text) <= MAX_CHARS
            following = doc.text[passage.end:passage.end + 1]
            # a passage ends at a sentence end, a line end or the end of the text, never mid-sentence
            assert following in ("", "\n") or sentence_end.search(passage.text), (passage.passage_id, passage.text[-20:])


def test_giant_sentence_is_cut_at_commas_only_when_unavoidable() -> None:
    giant = "，".join(["这是一个很长的分句"] * 200) + "。"
    passages = split(_doc("普通的一句话。\n\n" + giant))
    assert all(len(p.text) <= max(MAX_CHARS, HARD_MAX_CHARS) for p in passages)
    assert "".join(p.text for p in passages[1:]) == giant.replace("\n", "")
    assert all(p.text.endswith(("，", "。")) for p in passages[1:])
