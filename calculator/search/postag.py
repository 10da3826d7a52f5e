"""Part-of-speech tags for a question, as jieba.posseg gives them without its HMM, at a fraction of the start-up.

`import jieba.posseg` loads the HMM tables (prob_emit, char_state_tab: 2.6 s in a cold process here) and
`POSTokenizer()` reads the tags of all 349k dictionary words (0.4 s), yet the relevance gate cuts with
`HMM=False`, which uses neither table and needs the tags of a dozen words. This is that path of
`POSTokenizer.cut(text, HMM=False)` (jieba 0.42: `__cut_internal` + `__cut_DAG_NO_HMM`), reading a
word's tag from the dictionary file only when it is asked for. tests/search/test_postag.py checks that it
gives exactly jieba.posseg's pairs on every question of the evaluation sets.
"""
from __future__ import annotations

import re
import threading
from typing import Any

_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._]+)")
_SKIP = re.compile("(\r\n|\\s)")
_ENG = re.compile("[a-zA-Z0-9]+")
_NUM = re.compile("[\\.0-9]+")
_ENG1 = re.compile("^[a-zA-Z0-9]$", re.U)


class TagTable:
    """word → tag of one jieba dictionary, looked up in the file's bytes (first "word freq tag" line wins)."""

    def __init__(self, tokenizer: Any) -> None:
        with tokenizer.get_dict_file() as handle:
            self._blob = b"\n" + handle.read().replace(b"\r\n", b"\n")
        self._user = dict(tokenizer.user_word_tag_tab)   # tags given with add_word(…, tag=…)
        self._cache: dict[str, str] = {}

    def tag(self, word: str) -> str:
        if word in self._user:
            return self._user[word]
        found = self._cache.get(word)
        if found is None:
            found = self._cache[word] = self._lookup(word)
        return found

    def _lookup(self, word: str) -> str:
        key = b"\n" + word.encode("utf-8") + b" "
        at = self._blob.find(key)
        while at >= 0:
            end = self._blob.find(b"\n", at + 1)
            parts = self._blob[at + 1:end if end >= 0 else None].strip().split(b" ")
            if len(parts) == 3:
                return parts[2].decode("utf-8")
            at = self._blob.find(key, at + 1)
        return "x"


_tables: dict[int, tuple[Any, TagTable]] = {}
_lock = threading.Lock()


def _table(tokenizer: Any) -> TagTable:
    with _lock:
        cached = _tables.get(id(tokenizer))
        if cached is None or cached[0] is not tokenizer:
            cached = _tables[id(tokenizer)] = (tokenizer, TagTable(tokenizer))
        return cached[1]


def pos_cut(tokenizer: Any, text: str) -> list[tuple[str, str]]:
    """(word, tag) pairs of `text`: jieba.posseg.POSTokenizer(tokenizer).lcut(text, HMM=False), as tuples."""
    table = _table(tokenizer)
    out: list[tuple[str, str]] = []
    for block in _HAN.split(text):
        if not block:
            continue
        if _HAN.match(block):
            out += _cut_block(tokenizer, table, block)
            continue
        for piece in _SKIP.split(block):
            if _SKIP.match(piece):
                out.append((piece, "x"))
                continue
            for char in piece:
                out.append((char, "m" if _NUM.match(char) else "eng" if _ENG.match(piece) else "x"))
    return out


def _cut_block(tokenizer: Any, table: TagTable, block: str) -> list[tuple[str, str]]:
    dag = tokenizer.get_DAG(block)
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(block, dag, route)
    out: list[tuple[str, str]] = []
    x, buffer = 0, ""
    while x < len(block):
        y = route[x][1] + 1
        word = block[x:y]
        if _ENG1.match(word):
            buffer += word
        else:
            if buffer:
                out.append((buffer, "eng"))
                buffer = ""
            out.append((word, table.tag(word)))
        x = y
    if buffer:
        out.append((buffer, "eng"))
    return out
