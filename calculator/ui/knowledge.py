"""知识库 (public): what the answers rest on — every document with its provenance, and passage search."""
from __future__ import annotations

import gradio as gr

from calculator.present.html import DOCUMENT_HEADERS, NO_INDEX_NOTICE, documents_rows, hits_html, notice_html
from calculator.ui.common import cited_html, error_html, friendly, index_ready

SEARCH_HITS = 5


@friendly(lambda message: [[message] + [""] * (len(DOCUMENT_HEADERS) - 1)])
def document_rows() -> list[list[str]]:
    """The document list as table rows (the catalog's corpus: what citations point into)."""
    from calculator.policy.catalog import load_catalog

    return documents_rows(load_catalog().docs.values())


@friendly(lambda message, *args: error_html(message))
def search_passages(query: str) -> str:
    """Top passages for `query` with provenance and context; a plain notice when there is no index."""
    from calculator.search.retrieve import search

    if not (query or "").strip():
        return error_html("请输入要查找的内容，例如：研发费用加计扣除比例")
    if not index_ready():
        return notice_html(NO_INDEX_NOTICE)
    from calculator.core.config import get_settings
    from calculator.policy.catalog import load_catalog

    docs, today = load_catalog().docs, get_settings().today
    hits = []
    for hit in search(query, SEARCH_HITS * 2).to_json():
        doc = docs.get(hit["doc_id"])
        words, expired = doc.validity_words(today) if doc is not None else ("有效期未载明", False)
        hits.append({**hit, "validity": words, "expired": expired})
    # best first; on a tied score a text in force comes before an expired or replaced one
    hits.sort(key=lambda h: (-h["score"], h["expired"]))
    return hits_html(hits[:SEARCH_HITS], query)


def build() -> None:
    gr.Markdown("这里列出回答所依据的全部文件及其来源。标注“要点摘要”的是本项目对未收录原文的通知所作的摘要，"
                "引用时注明“摘要，以原文为准”。")
    with gr.Row():
        query = gr.Textbox(label="在知识库中查找", placeholder="如：稳岗返还 申请 条件", scale=4, elem_id="kb-query")
        go = gr.Button("查找", scale=1, elem_id="kb-search")
    hits = cited_html("", elem_id="kb-hits")
    gr.Dataframe(value=document_rows, headers=DOCUMENT_HEADERS, interactive=False, wrap=True, label="文件清单",
                 column_widths=["34%", "18%", "14%", "10%", "10%", "7%", "7%"], max_height=520, elem_id="kb-docs")
    go.click(search_passages, query, hits)
    query.submit(search_passages, query, hits)
