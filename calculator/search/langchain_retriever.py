"""Hybrid search as a LangChain retriever, for integrators who build their own chains on the corpus.

    retriever = PolicyRetriever(k=5)
    documents = retriever.invoke("稳岗返还的返还标准")   # LangChain Documents, provenance in metadata

Kept in its own module so `search` and the CLI never import LangChain: each Document carries the
passage text and, as metadata, the hit's doc_id, doc_title, doc_number, locator, scores and ranks.
"""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LangChainDocument
from langchain_core.retrievers import BaseRetriever

from calculator.search.retrieve import search


class PolicyRetriever(BaseRetriever):
    """`search` as a LangChain retriever: Documents whose metadata carry provenance and scores."""

    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LangChainDocument]:
        return [LangChainDocument(page_content=hit.text, id=hit.passage_id,
                                  metadata={key: value for key, value in hit.to_json().items() if key != "text"})
                for hit in search(query, self.k)]
