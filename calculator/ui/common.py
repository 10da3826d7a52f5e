"""What every tab shares: friendly errors, the citation-context panel, the knowledge-base status.

Handlers never let an exception reach the page: a `UserError` shows its Chinese message, anything
else a polite generic line, and the log gets the handler's name, the exception type and the code
path but never the exception's text or arguments (they may hold a company name or a message).
"""
from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

import gradio as gr

from calculator.core.errors import ServiceUnavailable, UserError

log = logging.getLogger("calculator.app")

MAX_QUOTE_CHARS = 400  # what a citation element carries (render.citation_html); anything longer is not ours
GENERIC_ERROR = "抱歉，系统暂时出了点问题，请稍后再试；已记录，不影响您已填写的内容。"
UNAVAILABLE = "检索服务暂时不可用，请稍后再试；政策匹配和其他功能不受影响。"
F = TypeVar("F", bound=Callable[..., Any])


def user_message(exc: BaseException, where: str) -> str:
    """The Chinese line to show for `exc`; unexpected errors are logged without any user data."""
    if isinstance(exc, ServiceUnavailable):  # its text names the server: for the operator's log, not the page
        log.warning("handler %s: %s", where, exc.en)
        return UNAVAILABLE
    if isinstance(exc, UserError):
        return exc.zh
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("handler %s failed: %s\n%s", where, type(exc).__name__, frames)
    return GENERIC_ERROR


def friendly(on_error: Callable[..., Any]) -> Callable[[F], F]:
    """Wrap a handler: on failure return `on_error(message, *args)` instead of raising.

    `on_error` receives the handler's own arguments, so it can hand back what the user had (their
    chat, their form) together with the message: nothing typed is lost.
    """
    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                return on_error(user_message(exc, fn.__name__), *args)
        return inner  # type: ignore[return-value]
    return wrap


def error_html(message: str) -> str:
    """An inline error box (validation messages in the staff form, failures in panels)."""
    return f'<div class="pc-error" role="alert">{escape(message)}</div>' if message else ""


# ---------------------------------------------------------------- citation context on demand

def citation_context(args: list[Any]) -> str:
    """Server function behind every "查看原文上下文": the document text around a citation, quote marked.

    Called from the browser with [doc_id, start, end, quote]; offsets come from the catalog or the
    index, and a quote without offsets is located in the text. Documents are public, so nothing
    about the session is needed.
    """
    from calculator.core.textnorm import locate
    from calculator.policy.catalog import load_catalog
    from calculator.present.html import context_html

    try:
        doc_id, start, end, quote = (list(args) + ["", "", "", ""])[:4]
        doc = load_catalog().docs.get(str(doc_id))
        if doc is None:
            return '<div class="pc-ctx-text">该文档不在知识库中。</div>'
        if str(start).isdigit() and str(end).isdigit():
            span: tuple[int, int] | None = (int(start), int(end))
        else:
            span = locate(doc.text, str(quote)[:MAX_QUOTE_CHARS]) if quote else None
        return context_html(doc, *(span or (None, None)))
    except Exception as exc:
        return f'<div class="pc-ctx-text">{user_message(exc, "citation_context")}</div>'


# Fills a citation's context the first time its <details class="pc-ctx"> opens. `toggle` does not
# bubble, hence the capture listener on the component's root (which survives value re-renders).
CONTEXT_JS = """
element.addEventListener('toggle', async (ev) => {
  const d = ev.target;
  if (!d.classList || !d.classList.contains('pc-ctx') || !d.open || d.dataset.loaded) return;
  d.dataset.loaded = '1';
  const body = d.querySelector('.pc-ctx-body');
  try {
    body.innerHTML = await server.citation_context(
      [d.dataset.doc || '', d.dataset.start || '', d.dataset.end || '', d.dataset.quote || '']);
    const box = body.querySelector('.pc-ctx-text'), mark = body.querySelector('mark');
    if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  } catch (e) {
    body.textContent = '暂时无法加载原文，请稍后再试。';
    delete d.dataset.loaded;
  }
}, true);
"""


# The [n] markers of chat answers are links (present.html.link_markers) to #pc-cite?doc=…&start=…&end=…;
# a tap opens that clause in its document's context in a sheet over the page (at the bottom on a phone),
# for any answer in the history, not only the latest. One document-level listener per page.
CITE_LINK_JS = """
if (!window.__pcCiteLinks) {
  window.__pcCiteLinks = true;
  const close = () => { const s = document.getElementById('pc-sheet'); if (s) s.remove(); };
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') close(); });
  document.addEventListener('click', async (ev) => {
    const a = ev.target.closest && ev.target.closest('a[href^="#pc-cite?"]');
    if (!a) return;
    ev.preventDefault(); ev.stopPropagation();
    const q = new URLSearchParams(a.getAttribute('href').slice('#pc-cite?'.length));
    close();
    const sheet = document.createElement('div');
    sheet.id = 'pc-sheet'; sheet.className = 'pc-sheet'; sheet.setAttribute('role', 'dialog');
    sheet.setAttribute('aria-label', '依据原文');
    sheet.innerHTML = '<div class="pc-sheet-head"><b>依据 ' + a.textContent + ' 的原文</b>'
      + '<button type="button" class="pc-sheet-close" aria-label="关闭">关闭</button></div>'
      + '<div class="pc-sheet-body pc-ctx-body">加载中…</div>';
    document.body.appendChild(sheet);
    sheet.querySelector('.pc-sheet-close').addEventListener('click', close);
    const body = sheet.querySelector('.pc-sheet-body');
    try {
      body.innerHTML = await server.citation_context(
        [q.get('doc') || '', q.get('start') || '', q.get('end') || '', q.get('quote') || '']);
      const box = body.querySelector('.pc-ctx-text'), mark = body.querySelector('mark');
      if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
    } catch (e) {
      body.textContent = '暂时无法加载原文，请稍后再试。';
    }
  }, true);
}
"""


def cited_html(value: str = "", cite_links: bool = False, **kwargs: Any) -> gr.HTML:
    """An HTML panel whose citations open their document context (see `citation_context`); with
    `cite_links`, it also serves the [n] links of chat answers anywhere on the page."""
    js = CONTEXT_JS + (CITE_LINK_JS if cite_links else "")
    return gr.HTML(value, js_on_load=js, server_functions=[citation_context], **kwargs)


# ---------------------------------------------------------------- knowledge base status

def index_ready() -> bool:
    """Whether an ingested index exists: without one, questions cannot be answered but matching works."""
    from calculator.core.config import get_settings
    from calculator.search.index import current_generation

    try:
        return current_generation(get_settings()) is not None
    except Exception as exc:
        user_message(exc, "index_ready")
        return False
