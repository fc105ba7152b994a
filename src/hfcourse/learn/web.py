"""Practice pages: quizzes, interview practice, coding tasks, review queue. Mounted by hfcourse.web.app via ROUTERS.

Answers, reference answers and reference solutions never go into a page or a listing: quiz feedback comes
back per item after answering, interview references only from the explicit "reveal" endpoint, and task
solutions (solution.py) are read by nothing in this module.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..content import load_course_cached
from ..paths import course_dir
from ..web.db import LOCAL_LEARNER
from . import store
from .bank import load_interview, load_quizzes
from .grader import grade, load_tasks

router = APIRouter()

from ..web import app as _web  # noqa: E402 - the plug-in contract: add our entry to the top bar once

if ("/learn", "练习") not in _web.NAV_LINKS:
    _web.NAV_LINKS.append(("/learn", "练习"))
MAX_CODE = 50_000


@lru_cache(maxsize=1)
def _bank():
    course = load_course_cached(course_dir())
    quizzes = {q.chapter: q for q in load_quizzes(course)}
    interview = {q.id: q for q in load_interview(course)}
    return course, quizzes, interview


def _tasks():
    return load_tasks()


def point_url(point_id: str) -> str:
    parts = point_id.split(".")
    return f"/c/{parts[0]}/{parts[0]}.{parts[1]}#{point_id}"


def _page(request: Request, name: str, **ctx) -> HTMLResponse:
    course = load_course_cached(course_dir())
    return request.app.state.templates.TemplateResponse(request, name, {"course": course, **ctx})


def _quiz(chapter: int):
    q = _bank()[1].get(chapter)
    if q is None:
        raise HTTPException(404, f"第 {chapter} 章没有测验")
    return q


# -- pages ---------------------------------------------------------------------------------------------------
@router.get("/learn", response_class=HTMLResponse)
def learn_home(request: Request):
    _, quizzes, interview = _bank()
    with request.app.state.sessions() as s:
        due = store.due_cards(s, LOCAL_LEARNER)
        scores = store.interview_scores(s, LOCAL_LEARNER)
    return _page(request, "learn/index.html", quizzes=sorted(quizzes.values(), key=lambda q: q.chapter),
                 tasks=list(_tasks().values()), interview=list(interview.values()), scores=scores, due=due)


@router.get("/learn/quiz/{chapter}", response_class=HTMLResponse)
def quiz_page(request: Request, chapter: int):
    q = _quiz(chapter)
    with request.app.state.sessions() as s:
        history = store.quiz_history(s, LOCAL_LEARNER, chapter)
    return _page(request, "learn/quiz.html", quiz=q, items=[i.public() for i in q.items], history=history)


@router.get("/learn/interview/{qid}", response_class=HTMLResponse)
def interview_page(request: Request, qid: str):
    q = _bank()[2].get(qid)
    if q is None:
        raise HTTPException(404, "题目不存在")
    with request.app.state.sessions() as s:
        score = store.interview_scores(s, LOCAL_LEARNER).get(qid)
    return _page(request, "learn/interview.html", q=q, score=score)


@router.get("/learn/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: str):
    t = _tasks().get(task_id)
    if t is None:
        raise HTTPException(404, "任务不存在")
    with request.app.state.sessions() as s:
        best = s.scalar(store.select(store.TaskBest.best).where(store.TaskBest.learner_id == LOCAL_LEARNER,
                                                                store.TaskBest.task_id == task_id))
    return _page(request, "learn/task.html", task=t.public(), best=best)


# -- API -----------------------------------------------------------------------------------------------------
class Answer(BaseModel):
    item_id: str = Field(max_length=50)
    answer: bool | int | str | list[int]


@router.post("/api/learn/quiz/{chapter}/answer")
def quiz_answer(request: Request, chapter: int, body: Answer):
    q = _quiz(chapter)
    item = next((i for i in q.items if i.id == body.item_id), None)
    if item is None:
        raise HTTPException(404, "题目不存在")
    correct = item.check(body.answer)
    with request.app.state.sessions() as s, s.begin():
        store.review(s, LOCAL_LEARNER, f"quiz:{item.id}", store.rating_for(correct))
    return {"correct": correct, "explanation": item.explanation, "link": point_url(item.point), "point": item.point}


class QuizResult(BaseModel):
    score: int = Field(ge=0, le=1000)


@router.post("/api/learn/quiz/{chapter}/finish")
def quiz_finish(request: Request, chapter: int, body: QuizResult):
    q = _quiz(chapter)
    score = min(body.score, len(q.items))
    with request.app.state.sessions() as s, s.begin():
        store.record_quiz(s, LOCAL_LEARNER, chapter, score, len(q.items))
    with request.app.state.sessions() as s:
        return {"history": [{"score": a.score, "total": a.total, "at": a.created_at.isoformat()}
                            for a in store.quiz_history(s, LOCAL_LEARNER, chapter)]}


@router.get("/api/learn/interview/{qid}/reference")
def interview_reference(qid: str):
    q = _bank()[2].get(qid)
    if q is None:
        raise HTTPException(404, "题目不存在")
    return {"answer": q.answer, "rubric": {str(k): v for k, v in sorted(q.rubric.items())}, "followups": q.followups,
            "source": [{"anchor": l.anchor, "path": l.path, "line": l.line} for l in q.source]}


class SelfScore(BaseModel):
    score: int
    answer: str = Field(default="", max_length=10_000)


@router.post("/api/learn/interview/{qid}/score")
def interview_score(request: Request, qid: str, body: SelfScore):
    if qid not in _bank()[2]:
        raise HTTPException(404, "题目不存在")
    if body.score not in (0, 60, 80, 100):
        raise HTTPException(422, "分数只能是 0、60、80 或 100")
    with request.app.state.sessions() as s, s.begin():
        store.record_interview(s, LOCAL_LEARNER, qid, body.score, body.answer)
        due = store.review(s, LOCAL_LEARNER, f"interview:{qid}", store.rating_for(body.score))
    return {"score": body.score, "next_review": due.isoformat()}


class Submission(BaseModel):
    code: str = Field(max_length=MAX_CODE)


@router.get("/api/learn/tasks")
def task_list():
    return [t.public() for t in _tasks().values()]


@router.post("/api/learn/tasks/{task_id}/grade")
def task_grade(request: Request, task_id: str, body: Submission):
    # A plain `def` endpoint runs in the thread pool: the server keeps answering while the sandbox works.
    t = _tasks().get(task_id)
    if t is None:
        raise HTTPException(404, "任务不存在")
    g = grade(t, body.code)
    with request.app.state.sessions() as s, s.begin():
        best = store.record_task(s, LOCAL_LEARNER, task_id, g.score)
    return {"verdict": g.verdict, "tests": g.tests, "score": g.score, "best": best, "seconds": round(g.duration, 2)}


@router.get("/api/learn/review")
def review_due(request: Request):
    with request.app.state.sessions() as s:
        return {"due": store.due_cards(s, LOCAL_LEARNER)}


# -- checklists ----------------------------------------------------------------------------------------------
def load_checklists() -> list[dict]:
    import yaml

    path = course_dir() / "interview" / "checklists" / "checklists.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["checklists"]


@router.get("/learn/checklist", response_class=HTMLResponse)
def checklist_page(request: Request):
    lists = load_checklists()
    with request.app.state.sessions() as s:
        done = store.checklist_done(s, LOCAL_LEARNER)
    return _page(request, "learn/checklist.html", lists=lists, done=done)


class Check(BaseModel):
    done: bool


@router.post("/api/learn/checklist/{item_id}")
def checklist_set(request: Request, item_id: str, body: Check):
    known = {i["id"] for c in load_checklists() for i in c["items"]}
    if item_id not in known:
        raise HTTPException(404, "清单项不存在")
    with request.app.state.sessions() as s, s.begin():
        store.set_checklist(s, LOCAL_LEARNER, item_id, body.done)
    with request.app.state.sessions() as s:
        done = store.checklist_done(s, LOCAL_LEARNER)
    return {"progress": {c["id"]: [sum(i["id"] in done for i in c["items"]), len(c["items"])] for c in load_checklists()}}


# -- study plan ----------------------------------------------------------------------------------------------
@router.get("/learn/plan", response_class=HTMLResponse)
def plan_page(request: Request):
    import yaml

    plan = yaml.safe_load((course_dir() / "interview" / "checklists" / "plan.yaml").read_text(encoding="utf-8"))
    course = load_course_cached(course_dir())
    written = {c.number for c in course.chapters}
    titles = {c.number: c.title for c in course.outline.chapters}
    tasks = _tasks()
    with request.app.state.sessions() as s:
        best = {r.task_id: r.best for r in s.scalars(store.select(store.TaskBest).where(
            store.TaskBest.learner_id == LOCAL_LEARNER))}
    return _page(request, "learn/plan.html", plan=plan, written=written, titles=titles, tasks=tasks, best=best,
                 quizzes=_bank()[1])
