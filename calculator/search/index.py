"""The passage index: Chroma vectors + a lexical BM25 matrix, written as immutable generations.

Layout under DATA_DIR:

    CURRENT                     name of the generation in use (switched atomically with os.replace)
    ingest.lock                 held (flock) by the one ingest allowed at a time
    chroma/                     the embedded Chroma store (unused when CHROMA_HOST is set)
    generations/<gen>/          manifest.json, passages.jsonl, lexical.npz

Each ingest that changes anything writes a new generation (a new folder and a new Chroma collection
`<prefix>-<gen>`), then switches CURRENT, then deletes the old one. Until the switch nothing that
readers use has been touched, so a crash at any moment leaves the previous generation serving; the
next ingest deletes the leftovers. With a Chroma server the pointer still lives in DATA_DIR next to the
lexical index it must agree with; the collection prefix is derived from DATA_DIR so deployments that
share one server never clean up each other's collections.

Unchanged documents (same bytes, metadata, splitter and model) keep their passages, tokens and vectors:
vectors are read back from the previous collection, so a re-run never loads the embedding model.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from calculator.core.config import Settings, get_settings
from calculator.core.errors import ServiceUnavailable, UserError
from calculator.corpus.documents import Document, DocumentError, scan_corpus
from calculator.corpus.splitter import indexed_text, split
from calculator.search.lexical import LexicalIndex, get_lexicon

FORMAT = 1
SPLITTER_VERSION = "3"        # bump when splitting or cleaning changes, so passages are rebuilt
CURRENT = "CURRENT"
GENERATIONS = "generations"
PAUSE_ENV = "CALCULATOR_INGEST_PAUSE_S"   # test hook: pause before the switch (crash-safety test)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# ---------------------------------------------------------------- Chroma access

def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


_clients: dict[tuple[str, ...], Any] = {}
# Two threads constructing the first PersistentClient for a path at once get a half-started shared
# system ("Could not connect to tenant default_tenant"), so creation is serialised (tests/system/test_load.py).
_clients_lock = threading.Lock()


def chroma_client(settings: Settings) -> Any:
    """Embedded PersistentClient under DATA_DIR, or HttpClient when CHROMA_HOST is set (cached per process)."""
    with _clients_lock:
        return _chroma_client_locked(settings)


def _chroma_client_locked(settings: Settings) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    if settings.chroma_host:
        key: tuple[str, ...] = ("http", settings.chroma_host, str(settings.chroma_port))
        if key not in _clients:
            try:
                _clients[key] = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                                    settings=_chroma_settings())
            except Exception as exc:  # connection errors come in several types
                raise ServiceUnavailable(f"无法连接 Chroma 服务 {settings.chroma_host}:{settings.chroma_port}",
                                         f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port}: {exc}") from exc
        return _clients[key]
    path = (settings.data_dir / "chroma").resolve()
    key = ("local", str(path))
    if key not in _clients:
        path.mkdir(parents=True, exist_ok=True)
        _clients[key] = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    return _clients[key]


def _unreachable(exc: Exception) -> bool:
    """A connection failure (server stopped, port closed), as opposed to a missing collection."""
    import httpx

    return isinstance(exc, (OSError, httpx.TransportError))


def collection_prefix(settings: Settings) -> str:
    """Chroma names allow [a-zA-Z0-9._-]{3,512}: a hash of DATA_DIR keeps deployments apart."""
    return "calc-" + hashlib.sha1(str(settings.data_dir.resolve()).encode()).hexdigest()[:10]


def _store_label(settings: Settings) -> str:
    return f"http://{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "embedded"


# ---------------------------------------------------------------- generations on disk

@dataclass
class Generation:
    """One immutable index version: its folder and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def collection(self) -> str:
        return str(self.manifest["collection"])

    def passages(self) -> list[dict[str, Any]]:
        with open(self.path / "passages.jsonl", encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]


def _current_name(settings: Settings) -> str:
    """The generation name in the CURRENT pointer ("" when there is none yet)."""
    try:
        return (settings.data_dir / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def current_generation(settings: Settings) -> Generation | None:
    """The generation CURRENT points at, if it is complete."""
    name = _current_name(settings)
    if not name:
        return None
    path = settings.data_dir / GENERATIONS / name
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Generation(path, manifest) if manifest.get("format") == FORMAT else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _switch_current(settings: Settings, name: str) -> None:
    """Atomic: readers see either the old or the new name, never a partial file."""
    tmp = settings.data_dir / f"{CURRENT}.tmp"
    _write_file(tmp, name.encode())
    os.replace(tmp, settings.data_dir / CURRENT)
    _fsync_dir(settings.data_dir)


@contextmanager
def _ingest_lock(settings: Settings) -> Iterator[None]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UserError("另一个导入任务正在运行，请稍后再试", "another ingest is running; try again later") from exc
        yield  # the OS releases the lock when the process dies, even on kill -9


def _remove_leftovers(settings: Settings, keep: Generation | None) -> None:
    """Delete generations and collections an interrupted or superseded ingest left behind."""
    root = settings.data_dir / GENERATIONS
    for path in root.glob("*") if root.is_dir() else []:
        if keep is None or path.name != keep.name:
            shutil.rmtree(path, ignore_errors=True)
    client = chroma_client(settings)
    prefix = collection_prefix(settings) + "-"
    for name in _collection_names(client):
        if name.startswith(prefix) and (keep is None or name != keep.collection):
            client.delete_collection(name)


def _collection_names(client: Any) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


# ---------------------------------------------------------------- build

@dataclass
class IngestReport:
    """What an ingest did; `failures` are the files that could not be read (one reason each)."""

    documents: int = 0
    passages: int = 0
    embedded: int = 0           # passages whose vectors were computed in this run
    reused: int = 0             # passages whose vectors were copied from the previous generation
    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failures: list[DocumentError] = field(default_factory=list)
    generation: str = ""
    up_to_date: bool = False
    seconds: float = 0.0
    embed_seconds: float = 0.0


def _fingerprint(doc: Document, model: str) -> str:
    payload = json.dumps([doc.sha256, doc.metadata(), SPLITTER_VERSION, model], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _passage_records(doc: Document, tokenize: Callable[[str], list[str]]) -> list[dict[str, Any]]:
    records = []
    for passage in split(doc):
        record = asdict(passage)
        record.update(doc_title=doc.title, doc_number=doc.doc_number, kind=doc.kind)
        record["tokens"] = " ".join(tokenize(_indexed(record)))
        records.append(record)
    return records


def _indexed(record: dict[str, Any]) -> str:
    return indexed_text(record["doc_title"], record.get("heading") or record["locator"], record["text"])


def _chroma_metadata(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("passage_id", "doc_id", "doc_title", "doc_number", "locator", "kind", "start", "end")
    return {key: record[key] for key in keys}


def build(docs_dir: Path | str | None = None, settings: Settings | None = None,
          progress: Progress | None = None) -> IngestReport:
    """Ingest `docs_dir` (default: settings.docs_dir) incrementally into a new generation."""
    settings = settings or get_settings()
    started = time.perf_counter()
    docs_dir = Path(docs_dir) if docs_dir is not None else settings.docs_dir
    if not docs_dir.exists():
        raise UserError(f"找不到文档目录 {docs_dir}", f"documents folder not found: {docs_dir}")
    with _ingest_lock(settings):
        report = _build_locked(docs_dir, settings, progress)
    report.seconds = time.perf_counter() - started
    return report


def _build_locked(docs_dir: Path, settings: Settings, progress: Progress | None) -> IngestReport:
    scan = scan_corpus(docs_dir)
    if not scan.documents:  # a mistyped or empty folder must not replace a working index with an empty one
        raise UserError(f"{docs_dir} 中没有可导入的文档（{len(scan.failures)} 个文件无法读取），现有索引保持不变",
                        f"no readable documents under {docs_dir} ({len(scan.failures)} unreadable); the index is unchanged")
    report = IngestReport(documents=len(scan.documents), failures=scan.failures)
    previous = current_generation(settings)
    _remove_leftovers(settings, previous)
    lexicon = get_lexicon()
    model = settings.embedding_model
    same_model = previous is not None and previous.manifest.get("model") == model
    same_lexicon = previous is not None and previous.manifest.get("lexicon") == lexicon.fingerprint
    old_docs: dict[str, Any] = previous.manifest["documents"] if previous and same_model else {}
    old_records = {r["passage_id"]: r for r in previous.passages()} if previous and old_docs else {}

    records: list[dict[str, Any]] = []
    to_embed: list[int] = []          # positions in `records` that need new vectors
    manifest_docs: dict[str, Any] = {}
    for doc_id, doc in scan.documents.items():
        fingerprint = _fingerprint(doc, model)
        old = old_docs.get(doc_id)
        if old and old["fingerprint"] == fingerprint and all(pid in old_records for pid in old["passages"]):
            doc_records = [dict(old_records[pid]) for pid in old["passages"]]
            if not same_lexicon:
                for record in doc_records:
                    record["tokens"] = " ".join(lexicon.tokenize(_indexed(record)))
            report.unchanged.append(doc_id)
        else:
            doc_records = _passage_records(doc, lexicon.tokenize)
            to_embed.extend(range(len(records), len(records) + len(doc_records)))
            report.changed.append(doc_id)
        records.extend(doc_records)
        manifest_docs[doc_id] = {"fingerprint": fingerprint, "sha256": doc.sha256, "path": doc.path,
                                 "passages": [r["passage_id"] for r in doc_records]}
    report.removed = sorted(set(previous.manifest["documents"]) - set(scan.documents)) if previous else []
    report.passages = len(records)
    if previous and same_model and same_lexicon and not report.changed and not report.removed:
        report.up_to_date, report.generation = True, previous.name
        return report
    vectors = _vectors(settings, previous if old_docs else None, records, to_embed, report, progress)
    report.generation = write_generation(settings, records, vectors, manifest_docs, lexicon.fingerprint, progress)
    return report


def write_generation(settings: Settings, records: list[dict[str, Any]], vectors: np.ndarray,
                     manifest_docs: dict[str, Any], lexicon_fingerprint: str,
                     progress: Progress | None = None) -> str:
    """Write `records` (with `tokens`) and their `vectors` as a new generation, switch CURRENT to it, return its name.

    The caller holds the ingest lock (`build` does). Apart from `build`, bench/search_scale.py calls this
    with synthetic records and copied vectors, so a 100× index is stored exactly as an ingest stores it.
    """
    name = datetime.now(UTC).strftime("g%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    path = settings.data_dir / GENERATIONS / name
    path.mkdir(parents=True)

    with open(path / "passages.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    LexicalIndex.build([r["tokens"].split() for r in records]).save(path / "lexical.npz")

    client = chroma_client(settings)
    collection_name = f"{collection_prefix(settings)}-{name}"
    collection = client.create_collection(collection_name, embedding_function=None,
                                          configuration={"hnsw": {"space": "cosine"}},
                                          metadata={"generation": name, "model": settings.embedding_model})
    batch = max(1, min(client.get_max_batch_size(), 4096))
    if progress:  # before the first batch: storing 100k passages takes minutes, the stage shows at once
        progress("store", 0, len(records))
    for offset in range(0, len(records), batch):
        part = records[offset:offset + batch]
        collection.add(ids=[r["passage_id"] for r in part], embeddings=vectors[offset:offset + batch],
                       documents=[r["text"] for r in part], metadatas=[_chroma_metadata(r) for r in part])
        if progress:
            progress("store", min(offset + batch, len(records)), len(records))

    pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
    if pause > 0:  # test hook: the new generation is half-made, the old one still serves
        print("INGEST_PAUSED", file=sys.stderr, flush=True)
        time.sleep(pause)

    manifest = {"format": FORMAT, "generation": name, "created": datetime.now(UTC).isoformat(),
                "model": settings.embedding_model, "dimension": int(vectors.shape[1]) if len(vectors) else 0,
                "lexicon": lexicon_fingerprint, "collection": collection_name, "store": _store_label(settings),
                "passages": len(records), "documents": manifest_docs}
    _write_file(path / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    _fsync_dir(path)
    _switch_current(settings, name)
    _remove_leftovers(settings, Generation(path, manifest))
    return name


def _stored_vectors(settings: Settings, previous: Generation, ids: list[str]) -> dict[str, np.ndarray]:
    """Vectors of `ids` from the previous collection; {} if it is gone (then they are simply re-embedded)."""
    try:
        collection = chroma_client(settings).get_collection(previous.collection, embedding_function=None)
    except Exception:  # NotFoundError / ValueError depending on the client: nothing to reuse
        return {}
    found: dict[str, np.ndarray] = {}
    for offset in range(0, len(ids), 4096):
        got = collection.get(ids=ids[offset:offset + 4096], include=["embeddings"])
        found.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
    return found


def _vectors(settings: Settings, previous: Generation | None, records: list[dict[str, Any]],
             to_embed: list[int], report: IngestReport, progress: Progress | None) -> np.ndarray:
    """New vectors for changed passages (batched through the model), old ones read back from Chroma."""
    pending = set(to_embed)
    reuse = [i for i in range(len(records)) if i not in pending]
    dimension = 0
    vectors: np.ndarray | None = None
    if reuse and previous is not None:
        found = _stored_vectors(settings, previous, [records[i]["passage_id"] for i in reuse])
        dimension = len(next(iter(found.values()))) if found else 0
        missing = [i for i in reuse if records[i]["passage_id"] not in found]
        to_embed = sorted(set(to_embed) | set(missing))
        reuse = [i for i in reuse if records[i]["passage_id"] in found]
        vectors = np.zeros((len(records), dimension), dtype=np.float32)
        for i in reuse:
            vectors[i] = found[records[i]["passage_id"]]
    if to_embed:
        from calculator.search.embedding import get_embedder

        embedder = get_embedder(settings.embedding_model)
        if progress:
            progress("load", 0, 0)  # importing sentence-transformers takes ~13 s: say so before it starts
        embedder.load()  # first, so that embed_seconds measures encoding only
        texts = [_indexed(records[i]) for i in to_embed]
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("embed", done, len(texts))

        started = time.perf_counter()
        new = embedder.encode(texts, progress=advance)
        report.embed_seconds = time.perf_counter() - started
        if vectors is None or vectors.shape[1] != new.shape[1]:
            vectors = np.zeros((len(records), new.shape[1]), dtype=np.float32)
        vectors[to_embed] = new
    report.embedded, report.reused = len(to_embed), len(reuse)
    return vectors if vectors is not None else np.zeros((0, dimension), dtype=np.float32)


# ---------------------------------------------------------------- reading

class IndexReader:
    """A loaded generation: passage table, lexical matrix, and its Chroma collection for dense queries."""

    def __init__(self, settings: Settings, generation: Generation) -> None:
        self.settings = settings
        self.generation = generation
        self.passages = generation.passages()
        self.lexical = LexicalIndex.load(generation.path / "lexical.npz")
        self.row_of = {p["passage_id"]: i for i, p in enumerate(self.passages)}
        self._collection: Any = None
        self._collection_lock = threading.Lock()  # the first queries after a switch arrive together

    @property
    def model(self) -> str:
        return str(self.generation.manifest["model"])

    def collection(self) -> Any:
        with self._collection_lock:
            return self._collection_locked()

    def _collection_locked(self) -> Any:
        if self._collection is None:
            try:
                self._collection = chroma_client(self.settings).get_collection(
                    self.generation.collection, embedding_function=None)
            except ServiceUnavailable:
                raise  # the server is down: re-running ingest would not help
            except Exception as exc:  # NotFoundError / ValueError depending on the client
                if _unreachable(exc):
                    raise ServiceUnavailable(f"无法连接 Chroma 服务（{_store_label(self.settings)}）",
                                             f"cannot reach the Chroma server ({_store_label(self.settings)}): {exc}") from exc
                raise UserError("索引不完整（向量库中缺少当前版本），请重新运行 ingest",
                                "the index is incomplete (vector collection missing); run ingest again") from exc
        return self._collection

    def dense_rows(self, vector: np.ndarray, n: int) -> list[int]:
        """Rows of the `n` nearest passages by cosine distance, best first."""
        n = min(n, len(self.passages))
        if n <= 0:
            return []
        collection = self.collection()
        try:
            if self.settings.chroma_host:  # Chroma's HTTP client never times out: a stalled server would hold the turn
                result = _server_queries.submit(collection.query, query_embeddings=[vector], n_results=n,
                                                include=["distances"]).result(timeout=SERVER_QUERY_TIMEOUT_S)
            else:
                result = collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        except Exception as exc:  # server gone or stalled (TimeoutError), collection dropped: one clear line
            error = ServiceUnavailable if _unreachable(exc) else UserError
            raise error(f"向量库查询失败（{_store_label(self.settings)}），请检查 Chroma 服务或重新运行 ingest",
                        f"vector store query failed ({_store_label(self.settings)}): {exc or type(exc).__name__}") from exc
        return [self.row_of[pid] for pid in result["ids"][0] if pid in self.row_of]


# Queries to a Chroma server run here so that each waits at most SERVER_QUERY_TIMEOUT_S (tests/system/test_faults.py):
# a server that accepts connections but never answers (stopped, swapping) otherwise blocks a chat turn forever.
# A stalled query keeps its worker until the server answers; once all are stuck, new queries time out waiting.
SERVER_QUERY_TIMEOUT_S = 5.0
_server_queries = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chroma-query")

_readers: dict[str, IndexReader] = {}


def open_index(settings: Settings | None = None) -> IndexReader:
    """The generation CURRENT points at, loaded once per process and reloaded after an ingest switches it."""
    settings = settings or get_settings()
    key = f"{settings.data_dir.resolve()}|{_store_label(settings)}"
    reader = _readers.get(key)
    # only the tiny pointer is read per query; the generation itself is loaded once
    if reader is not None and reader.generation.name == _current_name(settings):
        return reader
    generation = current_generation(settings)
    if generation is None:
        raise UserError("还没有索引：请先运行 python ingest.py（或 python -m calculator ingest）",
                        "no index yet: run python ingest.py (or python -m calculator ingest) first")
    reader = _readers[key] = IndexReader(settings, generation)
    return reader
