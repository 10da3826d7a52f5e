"""The dictionary-only tagger gives exactly jieba.posseg's (word, tag) pairs, without importing jieba.posseg."""
from __future__ import annotations

import json

import pytest
from paths import DATA, KNOWLEDGE

from calculator.search.lexical import get_lexicon
from calculator.search.postag import pos_cut
from calculator.search.relevance import normalise

ODD = ["ABC 12.5万 hello world!\r\n test", "R&D super deduction", "a1b2 c", "  x  ", "许昌 Q3 增值税3%", "", "。。。"]


def _texts() -> list[str]:
    texts = list(ODD)
    for path in sorted(DATA.glob("*.jsonl")):
        texts += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for path in sorted((KNOWLEDGE / "docs" / "facts").glob("*.md")):
        texts += path.read_text(encoding="utf-8").splitlines()
    return texts


@pytest.mark.parametrize("normalised", [True, False])
def test_same_pairs_as_jieba_posseg(normalised: bool) -> None:
    import jieba.posseg

    tokenizer = get_lexicon().tokenizer
    reference = jieba.posseg.POSTokenizer(tokenizer)
    texts = [normalise(t) if normalised else t for t in _texts()]
    assert len(texts) > 300
    for text in texts:
        assert pos_cut(tokenizer, text) == [(p.word, p.flag) for p in reference.cut(text, HMM=False)], text
