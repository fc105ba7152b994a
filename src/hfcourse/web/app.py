"""The learning platform: FastAPI + server-rendered Jinja2, small vanilla JS, nothing from a CDN.

`create_app()` builds the app. Other parts of the platform plug in without editing this file:

- `ROUTERS`: "module:attribute" of each extra APIRouter; create_app() imports and includes every one whose
  module exists (missing modules are skipped, so a part can land later). Routers are imported *before* the
  templates are set up, so their module may append to the two lists below at import time.
- `TEMPLATE_DIRS`: folders searched for templates (this package's first). A part's templates
  `{% extends "base.html" %}` and fill the blocks `title`, `head`, `main_class`, `content`, `scripts`.
- `NAV_LINKS`: (href, label) pairs shown in the top bar.
- `render_page(request, "their.html", **ctx)`: renders a template with the shared context (`course`,
  `nav_links`, `json_script`) and the security headers; JSON data for page scripts goes in
  `{{ json_script(data) }}`-style <script type="application/json"> tags (the CSP forbids inline scripts).

The app never imports torch at start: components import it lazily.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import threading
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..content import load_course_cached
from ..content.model import Course
from ..paths import course_dir, report_path
from . import db
from .render import json_script, pygments_css, render_section

HERE = Path(__file__).parent
ROUTERS: list[str] = ["hfcourse.learn.web:router"]
TEMPLATE_DIRS: list[Path] = [HERE / "templates"]
NAV_LINKS: list[tuple[str, str]] = [("/", "首页"), ("/course", "课程目录"), ("/search", "搜索"), ("/concepts", "概念索引"),
                                     ("/components", "交互组件")]
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
MAX_NOTE = 5000


class CompletePayload(BaseModel):
    completed: bool = True


class NotePayload(BaseModel):
    text: str = Field("", max_length=MAX_NOTE)
    bookmarked: bool = False


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(database_url: str | None = None) -> FastAPI:
    app = FastAPI(title="hfcourse", version="0.1.0", docs_url=None, redoc_url=None)
    extra_routers = [_load_router(spec) for spec in ROUTERS]  # first: they may extend the lists above
    templates = Jinja2Templates(directory=[str(d) for d in dict.fromkeys(TEMPLATE_DIRS)])
    templates.env.globals.update(nav_links=NAV_LINKS, json_script=json_script)
    engine = db.make_engine(database_url)
    db.migrate(engine)
    Session = db.sessions(engine)
    app.state.engine, app.state.sessions, app.state.templates = engine, Session, templates

    last_visit: dict[int, tuple[str, datetime]] = {}

    course_lock = threading.Lock()

    def course() -> Course:
        # one loader at a time: concurrent first requests would otherwise each parse the whole course
        with course_lock:
            return load_course_cached(course_dir())

    @lru_cache(maxsize=1)
    def _report(stamp: float) -> dict:
        path = report_path()
        return json.loads(path.read_text(encoding="utf-8")).get("examples", {}) if path.exists() else {}

    def report() -> dict:
        p = report_path()
        return _report(p.stat().st_mtime if p.exists() else 0.0)

    @lru_cache(maxsize=512)
    def rendered(section_id: str, stamp: float, report_stamp: float):
        s = course().section(section_id)
        ch = course().chapter(s.chapter_number)
        return render_section(s, report(), lambda name: f"/figures/{ch.dir.name}/{name}")

    def render(section):
        rp = report_path()
        return rendered(section.id, section.path.stat().st_mtime, rp.stat().st_mtime if rp.exists() else 0.0)

    @lru_cache(maxsize=1)
    def _search_index(stamp: int):
        from .search import SearchIndex

        return SearchIndex(course())

    def search_index():
        return _search_index(id(course()))

    def progress() -> dict[str, db.SectionProgress]:
        with Session() as s:
            rows = s.scalars(select(db.SectionProgress).where(db.SectionProgress.learner_id == db.LOCAL_LEARNER))
            return {r.section_id: r for r in rows}

    def page(request: Request, name: str, status: int = 200, **ctx):
        return templates.TemplateResponse(request, name, {"course": course(), **ctx}, status_code=status)

    def path_progress(c: Course, done: set[str]) -> list[dict]:
        out = []
        for lp in c.learning_paths:
            chapters = [(n, c.outline.chapter(n), c.chapter(n)) for n in lp.chapter_numbers]
            sections = [s.id for _, _, ch in chapters if ch for s in ch.sections]
            out.append({"path": lp, "chapters": chapters, "total": len(sections),
                        "done": sum(s in done for s in sections)})
        return out

    # -- pages ---------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def home(request: Request):
        c = course()
        prog = progress()
        done = {k for k, v in prog.items() if v.completed}
        last = max((v for v in prog.values() if v.last_visited_at), key=lambda v: v.last_visited_at, default=None)
        return page(request, "home.html", paths=path_progress(c, done), last=last and c.section(last.section_id))

    @app.get("/course", response_class=HTMLResponse)
    def tree(request: Request):
        done = {k for k, v in progress().items() if v.completed}
        return page(request, "course.html", done=done)

    @app.get("/c/{number}", response_class=HTMLResponse)
    def chapter_page(request: Request, number: int):
        ch = course().chapter(number)
        if ch is None:
            raise HTTPException(404, f"第 {number} 章尚未编写或不存在")
        done = {k for k, v in progress().items() if v.completed}
        written = {p.id for sec in ch.sections for p in sec.points}
        pending = [(s, [p for p in s.points if p.id not in written])
                   for s in course().outline.chapter(number).sections]
        return page(request, "chapter.html", chapter=ch, done=done, pending=[(s, ps) for s, ps in pending if ps])

    @app.get("/c/{number}/{section_id}", response_class=HTMLResponse)
    def section_page(request: Request, number: int, section_id: str):
        c = course()
        s = c.section(section_id)
        if s is None or s.chapter_number != number:
            raise HTTPException(404, f"小节 {section_id} 不存在")
        ch = c.chapter(number)
        flat = c.sections
        i = flat.index(s)
        r = render(s)
        defaults = [_default_render(comp) for comp in r.components]
        now = datetime.now(timezone.utc)
        prog = progress()
        seen = last_visit.get(db.LOCAL_LEARNER)
        # "last visited" is recorded automatically; re-reading the same page within a minute writes nothing
        if seen is None or seen[0] != s.id or (now - seen[1]).total_seconds() > 60:
            with Session.begin() as sess:
                _progress_row(sess, s.id).last_visited_at = now
            last_visit[db.LOCAL_LEARNER] = (s.id, now)
        done = {k for k, v in prog.items() if v.completed}
        return page(request, "section.html", chapter=ch, section=s, body=r.html, toc=r.toc,
                    components=defaults, prev=flat[i - 1] if i else None,
                    next=flat[i + 1] if i + 1 < len(flat) else None, completed=s.id in done)

    @app.get("/components", response_class=HTMLResponse)
    def components_page(request: Request):
        from ..viz.registry import load_all

        c, used = course(), _component_uses(course())
        outline = {n: ch.number for ch in c.outline.chapters for n in ch.components}
        rows = sorted(load_all().values(), key=lambda s: (outline.get(s.name, s.chapter or 99), s.name))
        return page(request, "components.html", specs=rows, used=used, outline=outline)

    @app.get("/components/{name}", response_class=HTMLResponse)
    def component_page(request: Request, name: str):
        from ..viz.registry import get

        spec = get(name)
        if spec is None:
            raise HTTPException(404, f"组件 {name} 不存在")
        comp = {"name": name, "params": {}, "dom_id": "component-1"}
        return page(request, "component.html", spec=spec, uses=_component_uses(course()).get(name, []),
                    components=[_default_render(comp)])

    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, q: str = ""):
        q = q[:200]
        results = search_index().search(q) if q.strip() else []
        return page(request, "search.html", q=q, results=results)

    @app.get("/concepts", response_class=HTMLResponse)
    def concepts_page(request: Request):
        from .search import concept_index

        return page(request, "concepts.html", concepts=concept_index(course()))

    @app.get("/figures/{chapter_dir}/{name}")
    def figure(chapter_dir: str, name: str):
        root = course_dir().resolve()
        path = (root / chapter_dir / "_figures" / name).resolve()
        if root not in path.parents or path.suffix != ".png" or not path.is_file():
            raise HTTPException(404, "图片不存在")
        return FileResponse(path, media_type="image/png")

    @app.get("/static/vendor/plotly.min.js")
    def plotly_js():
        return FileResponse(_plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/pygments.css")
    def pygments_stylesheet():
        return HTMLResponse(pygments_css(), media_type="text/css")

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # -- JSON API ------------------------------------------------------------------------------------------
    api = APIRouter(prefix="/api")

    @api.get("/progress")
    def get_progress():
        return {k: {"completed": v.completed, "last_visited_at": v.last_visited_at and v.last_visited_at.isoformat()}
                for k, v in progress().items()}

    @api.post("/progress/{section_id}")
    def set_progress(section_id: str, payload: CompletePayload):
        if course().section(section_id) is None:
            raise HTTPException(404, f"小节 {section_id} 不存在")
        with Session.begin() as sess:
            row = _progress_row(sess, section_id)
            row.completed = payload.completed
            row.completed_at = datetime.now(timezone.utc) if payload.completed else None
        return {"section_id": section_id, "completed": payload.completed}

    @api.get("/notes/{point_id}")
    def get_note(point_id: str):
        _known_point(point_id)
        with Session() as sess:
            row = sess.scalar(select(db.PointNote).where(db.PointNote.learner_id == db.LOCAL_LEARNER,
                                                          db.PointNote.point_id == point_id))
            return {"point_id": point_id, "text": row.text if row else "", "bookmarked": bool(row and row.bookmarked)}

    @api.post("/notes/{point_id}")
    def set_note(point_id: str, payload: NotePayload):
        _known_point(point_id)
        with Session.begin() as sess:
            row = sess.scalar(select(db.PointNote).where(db.PointNote.learner_id == db.LOCAL_LEARNER,
                                                          db.PointNote.point_id == point_id))
            if row is None:
                row = db.PointNote(learner_id=db.LOCAL_LEARNER, point_id=point_id)
                sess.add(row)
            row.text, row.bookmarked, row.updated_at = payload.text, payload.bookmarked, datetime.now(timezone.utc)
        return {"point_id": point_id, "text": payload.text, "bookmarked": payload.bookmarked}

    @api.get("/search")
    def api_search(q: str = Query("", max_length=200)):
        return {"query": q, "results": search_index().search(q) if q.strip() else []}

    @api.get("/components")
    def list_components():
        from ..viz.registry import load_all

        return [{"name": c.name, "title": c.title, "description": c.description, "chapter": c.chapter,
                 "schema": c.params.model_json_schema()} for c in load_all().values()]

    @api.get("/components/{name}")
    def component_get(name: str, request: Request):
        return _compute(name, dict(request.query_params))

    @api.post("/components/{name}")
    def component_post(name: str, params: dict):
        return _compute(name, params)

    app.include_router(api)

    def _known_point(point_id: str) -> None:
        if point_id not in {p.id for p in course().points}:
            raise HTTPException(404, f"知识点 {point_id} 不存在")

    def _progress_row(sess, section_id: str) -> db.SectionProgress:
        row = sess.scalar(select(db.SectionProgress).where(db.SectionProgress.learner_id == db.LOCAL_LEARNER,
                                                            db.SectionProgress.section_id == section_id))
        if row is None:
            row = db.SectionProgress(learner_id=db.LOCAL_LEARNER, section_id=section_id, completed=False)
            sess.add(row)
        return row

    app.state.page = page
    for router in extra_routers:
        if router is not None:
            app.include_router(router)

    # -- errors and headers --------------------------------------------------------------------------------
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return page(request, "error.html", status=exc.status_code, code=exc.status_code,
                    message=exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else "页面不存在")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"error": "参数无效", "details": _errors(exc.errors())}, status_code=422)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    return app


def render_page(request: Request, name: str, status: int = 200, **ctx):
    """Render `name` (from any of TEMPLATE_DIRS) with the context every page gets; for ROUTERS' pages."""
    return request.app.state.page(request, name, status, **ctx)


def _load_router(spec: str):
    module, _, attr = spec.partition(":")
    if not (importlib.util.find_spec(module.split(".")[0]) and _module_exists(module)):
        return None
    return getattr(importlib.import_module(module), attr)


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _errors(errors) -> list[dict]:
    return [{"loc": [str(x) for x in e.get("loc", [])], "msg": str(e.get("msg", ""))} for e in errors]


def _compute(name: str, raw: dict) -> dict:
    from ..viz.components.config import ComponentError
    from ..viz.registry import get

    spec = get(name)
    if spec is None:
        raise HTTPException(404, f"组件 {name} 不存在")
    if not isinstance(raw, dict) or len(json.dumps(raw, ensure_ascii=False)) > 4096:
        raise HTTPException(413, "参数过大")
    raw = {k: (None if v == "" else v) for k, v in raw.items()}
    try:
        params = spec.params.model_validate(raw)
    except ValidationError as e:
        return JSONResponse({"error": "参数无效", "details": _errors(e.errors())}, status_code=422)
    try:
        return _compute_cached(name, params.model_dump_json())
    except (ComponentError, ValueError) as e:
        return JSONResponse({"error": str(e)}, status_code=422)


@lru_cache(maxsize=256)
def _compute_cached(name: str, params_json: str) -> dict:
    """Components are pure functions of their validated parameters: repeated inputs are served from memory
    (errors are not cached, lru_cache only stores returned values)."""
    from ..viz.registry import get

    spec = get(name)
    return spec.compute(spec.params.model_validate_json(params_json))


@lru_cache(maxsize=64)
def _default_cached(name: str, params_json: str) -> str:
    from ..viz.registry import get

    spec = get(name)
    if spec is None:
        return json.dumps({"name": name, "error": f"未知组件 {name}"})
    params = spec.params.model_validate(json.loads(params_json))
    try:
        result = spec.compute(params)
    except Exception as e:  # noqa: BLE001 - the page still renders; the component shows the error
        result = {"error": str(e)}
    return json.dumps({"name": name, "title": spec.title, "description": spec.description,
                       "schema": spec.params.model_json_schema(), "params": params.model_dump(), **result},
                      ensure_ascii=False)


def _component_uses(c) -> dict[str, list]:
    """Component name -> the sections that embed it."""
    uses: dict[str, list] = {}
    for section in c.sections:
        for ref in section.components:
            if section not in uses.setdefault(ref.name, []):
                uses[ref.name].append(section)
    return uses


def _default_render(comp: dict) -> dict:
    """The pre-computed default render embedded in the page, so the component shows without a round-trip."""
    data = json.loads(_default_cached(comp["name"], json.dumps(comp["params"], sort_keys=True)))
    return {"dom_id": comp["dom_id"], "data": data}
