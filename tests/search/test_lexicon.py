"""The lexicon's data: synonyms join the dictionary as the domain's own words, question words are no concepts."""
from __future__ import annotations

from calculator.search.lexical import get_lexicon


def test_dictionary_and_synonym_words_are_the_domains_own_never_places() -> None:
    lexicon = get_lexicon()
    assert {"安家补贴", "安家", "个税", "高企"} <= lexicon.domain_words   # jieba's own dictionary tags 安家 ns
    assert "许昌" not in lexicon.domain_words                           # tagged ns in jieba_dict.txt


def test_question_words_are_not_concepts_and_short_forms_expand() -> None:
    lexicon = get_lexicon()
    words = {term for concept in lexicon.query_terms("现在个税减半到底到期了吗？") for term in concept}
    assert "现在" not in words                                          # a question word
    concept = next(c for c in lexicon.query_terms("个税减半") if "个税" in c)
    assert concept["个税"] == 1.0 and concept["个人所得税"] < 1.0           # the user's word counts more
    ending = next(c for c in lexicon.query_terms("哪天到期") if "到期" in c)
    assert {"截止", "终止执行"} <= set(ending)
