"""The HTTP API for other government systems (service-hall queues, 一网通办 portals, 企业服务平台): /api/v1.

The same contracts as the CLI (`match|ask|search --json`), from the same library calls; an OpenAPI 3.1
document at /api/v1/openapi.json describes them (no Swagger page: it needs a CDN an offline network cannot
reach; the README has curl examples). Every error is `{"error": {"zh", "en"}}` with a 4xx/5xx status, never
a traceback. The routes are added to the app before the Gradio mount at "/", which would otherwise answer
their paths (calculator/ui/server.py).

    POST /api/v1/match     {"text": "…"} or {"profile": {…}}, optional "today"   → match --json
    POST /api/v1/ask       {"question": "…", "profile"?, "today"?}              → ask --json
    GET  /api/v1/search?q=…&k=5                                                  → search --json
    GET  /api/v1/policies[?today=YYYY-MM-DD]                                     → the catalog with validity
    GET  /api/v1/health                                                          → catalog, index, versions

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time, and the
request models are built per fact schema inside `build_router`.
"""
import logging
import platform
from datetime import date
from importlib import metadata
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from calculator.api import models
from calculator.api.guard import ApiGuard, error_body
from calculator.core.config import get_settings
from calculator.core.errors import ServiceUnavailable, UserError
from calculator.facts.schema import FactSchema

log = logging.getLogger("calculator.api")

API_VERSION = "1"
PREFIX = "/api/v1"
TITLE = "许昌惠企政策计算器 API"
DESCRIPTION = ("政策匹配、带引用的问答、原文检索和政策目录，供政务服务大厅排队叫号、一网通办门户和企业服务平台调用。"
               " / Matching, cited answers, passage search and the policy catalog for other government systems. "
               "Errors: {\"error\": {\"zh\": …, \"en\": …}}.")
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": models.ErrorBody, "description": text} for code, text in {
    400: "bad JSON", 413: "body too large (API_MAX_BODY_KB)", 422: "invalid request",
    429: "too many requests (API_RATE_PER_MINUTE); see Retry-After", 503: "search unavailable"}.items()}


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _error(status: int, zh: str, en: str) -> JSONResponse:
    return JSONResponse(error_body(zh, en), status_code=status)


def build_router(schema: FactSchema) -> APIRouter:
    """The /api/v1 routes; the request models carry `schema`'s profile."""
    match_request, ask_request = models.request_models(schema)
    router = APIRouter(prefix=PREFIX, responses=ERRORS)

    @router.post("/match", response_model=models.MatchResponse, summary="按企业画像或自述匹配政策 / match a profile")
    def match(body: match_request) -> JSONResponse:  # type: ignore[valid-type]  # a model built for the schema
        from calculator.commands.match import contract, judge

        report, parsed = judge(body.profile, body.text, body.today)  # type: ignore[attr-defined]
        return _json(contract(report, parsed))

    @router.post("/ask", response_model=models.AskResponse, summary="带引用的问答 / a cited answer")
    def ask(body: ask_request) -> JSONResponse:  # type: ignore[valid-type]
        from calculator.dialogue.answer import ask as answer

        return _json(answer(body.question, profile=body.profile, today=body.today).to_json())  # type: ignore[attr-defined]

    @router.get("/search", response_model=list[models.SearchHit], summary="检索政策原文段落 / search passages")
    def search(q: str = Query(min_length=1, max_length=models.MAX_QUERY_CHARS, description="问题 / the question"),
               k: int = Query(5, ge=1, le=models.MAX_K, description="段落数 / passages")) -> JSONResponse:
        from calculator.search.retrieve import search as find

        return _json(find(q, k=k).to_json())

    @router.get("/policies", response_model=models.PolicyList, summary="政策目录 / the catalog")
    def policies(today: date | None = Query(None, description="按此日期判断有效期 / validity on this day")) -> JSONResponse:
        from calculator.policy.catalog import load_catalog

        day = today or get_settings().today
        listing = load_catalog().listing(day)
        return _json({"today": day.isoformat(), "count": len(listing), "policies": listing})

    @router.get("/health", response_model=models.Health, summary="运行状态 / health")
    def health() -> JSONResponse:
        data = _health()
        return _json(data, 200 if data["catalog"]["loaded"] else 503)

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(rest: str) -> JSONResponse:
        return _error(404, "没有这个接口或不支持该请求方法（见 /api/v1/openapi.json）",
                      "no such endpoint or method (see /api/v1/openapi.json)")

    return router


def _health() -> dict[str, Any]:
    from calculator.policy.catalog import load_catalog
    from calculator.policy.fingerprint import catalog_fingerprint
    from calculator.search.index import current_generation

    settings = get_settings()
    try:
        catalog = load_catalog()
        catalog_state: dict[str, Any] = {"loaded": True, "policies": len(catalog.policies),
                                         "fingerprint": catalog_fingerprint(catalog)[:16]}
    except UserError as exc:
        catalog_state = {"loaded": False, "error": exc.en}
    generation = current_generation(settings)
    index: dict[str, Any] = {"present": generation is not None}
    if generation is not None:
        manifest = generation.manifest
        index.update(generation=generation.name, passages=manifest.get("passages"), model=manifest.get("model"),
                     created=manifest.get("created"))
    try:
        app_version = metadata.version("xuchang-policy-calculator")
    except metadata.PackageNotFoundError:
        app_version = "unknown"
    ok = catalog_state["loaded"] and index["present"]
    return {"status": "ok" if ok else "degraded", "today": settings.today.isoformat(), "catalog": catalog_state,
            "index": index, "versions": {"api": API_VERSION, "app": app_version, "python": platform.python_version()}}


# ---------------------------------------------------------------- errors: one bilingual line each

def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query")]
    return ".".join(parts) or "请求体"


def _described(error: dict[str, Any]) -> tuple[str, str]:
    kind, where = error.get("type", ""), _field(tuple(error.get("loc") or ()))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "json_invalid":
        return "请求体不是有效的 JSON", "the request body is not valid JSON"
    if kind == "extra_forbidden":
        return f"未知字段“{where}”", f"unknown field {where!r}"
    if kind == "missing":
        return f"缺少字段“{where}”", f"missing field {where!r}"
    if kind in ("model_attributes_type", "dict_type") and where == "请求体":
        return "请求体应为 JSON 对象", "the request body must be a JSON object"
    if " / " in message:   # our own validators say it in both languages
        zh, en = message.split(" / ", 1)
        return zh, en
    ctx = error.get("ctx") or {}
    zh = {"less_than_equal": f"不能大于 {ctx.get('le')}", "greater_than_equal": f"不能小于 {ctx.get('ge')}",
          "string_too_long": f"最多 {ctx.get('max_length')} 个字", "string_too_short": "不能为空",
          "int_parsing": "应为整数", "int_type": "应为整数", "string_type": "应为文字", "bool_parsing": "应为 true/false",
          }.get(kind) or ("应为日期，如 2026-12-01" if kind.startswith(("date", "datetime")) else "格式不对")
    return f"“{where}”{zh}", f"{where}: {message}"


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if not errors:
        return _error(422, "请求无效", "invalid request")
    described = [_described(e) for e in errors[:3]]
    status = 400 if errors[0].get("type") == "json_invalid" else 422
    return _error(status, "；".join(d[0] for d in described), "; ".join(d[1] for d in described))


async def _user_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UserError)
    if isinstance(exc, ServiceUnavailable):
        log.warning("api: search service unavailable: %s", exc.en)
        return _error(503, "检索服务暂时不可用，请稍后再试（政策匹配不受影响）", "the search service is unavailable; try again later")
    return _error(422, exc.zh, exc.en)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, "请求无法处理", str(exc.detail))


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("api: internal error %s", type(exc).__name__)
    return _error(500, "内部错误，请稍后再试", "internal error")


def create_api() -> FastAPI:
    """The FastAPI app the Gradio pages are mounted on: /api/v1 routes, their guard and their error answers."""
    from calculator.policy.catalog import load_catalog

    settings = get_settings()
    try:
        schema = load_catalog().schema
    except UserError as exc:  # a broken catalog: the API still starts (health says so) with the folder's schema
        from calculator.facts.schema import default_schema

        log.warning("api: catalog not loaded: %s", exc.en)
        schema = default_schema()
    app = FastAPI(title=TITLE, version=API_VERSION, description=DESCRIPTION, openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None)
    router = build_router(schema)
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(UserError, _user_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal)
    paths = frozenset(getattr(r, "path", "") for r in router.routes) - {f"{PREFIX}/{{rest:path}}"}
    app.add_middleware(ApiGuard, prefix="/api/", max_body_bytes=int(settings.api_max_body_kb * 1024),
                       per_minute=settings.api_rate_per_minute, client_header=settings.api_client_header,
                       paths=paths | {f"{PREFIX}/openapi.json"})
    return app
