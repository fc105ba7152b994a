"""Quizzes, interview bank, anchors, learner storage and the FSRS review queue."""

import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from hfcourse.content import load_course
from hfcourse.content.errors import ContentErrors
from hfcourse.learn import bank


@pytest.fixture(scope="module")
def course():
    return load_course()


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


BAD_QUIZ = """\
chapter: 0
title: t
items:
  - id: a
    type: single
    point: "0.1.1"
    question: q
    options: [x, y]
    answer: [0, 1]
    explanation: e
  - id: a
    type: multiple
    point: "9.9.9"
    question: q
    options: [x, y]
    answer: []
    explanation: e
  - id: c
    type: ordering
    point: "0.1.1"
    question: q
    options: [x, y, z]
    answer: [0, 0, 2]
    explanation: e
  - id: d
    type: truefalse
    point: "0.1.1"
    question: q
    answer: yes please
    explanation: e
"""


def test_quiz_validation_errors_name_file_and_line(tmp_path, course):
    _write(tmp_path, "ch00.yaml", BAD_QUIZ)
    with pytest.raises(ContentErrors) as e:
        bank.load_quizzes(course, root=tmp_path)
    msgs = [str(x) for x in e.value.errors]
    text = "\n".join(msgs)
    assert "ch00.yaml:4: a: single choice needs" in text  # exactly one correct option
    assert "ch00.yaml:11: duplicate id a (first at line 4)" in text
    assert "ch00.yaml:11: a: knowledge point 9.9.9 does not exist" in text
    assert "ch00.yaml:11: a: multiple choice needs ≥1" in text
    assert "ch00.yaml:18: c: ordering answer must be a permutation" in text
    assert "ch00.yaml:25: d: true/false answer" in text


def test_real_quizzes_load_with_all_types(course):
    quizzes = bank.load_quizzes(course)
    ch0 = next(q for q in quizzes if q.chapter == 0)
    assert len(ch0.items) >= 10
    assert {i.type for i in ch0.items} == set(bank.QUIZ_TYPES)
    points = {p.id for p in course.points}
    assert all(i.point in points for i in ch0.items)


def test_quiz_answers_agree_with_the_installed_library(course):
    # ch00-q15 and ch00-q13 state facts about transformers' task registry: check them against it.
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    items = {i.id: i for q in bank.load_quizzes(course) for i in q.items}
    q15 = items["ch00-q15"]
    removed = {i for i, o in enumerate(q15.options) if o not in SUPPORTED_TASKS}
    assert removed == set(q15.answer)
    q13 = items["ch00-q13"]
    assert q13.options[q13.answer] == TASK_ALIASES["sentiment-analysis"]


def test_quiz_item_checking():
    item = bank.QuizItem("x", "ordering", "q", ["a", "b", "c"], [2, 0, 1], "e", "0.1.1", "f", 1)
    assert item.check([2, 0, 1]) and not item.check([0, 1, 2]) and not item.check("junk")
    fill = bank.QuizItem("y", "fill", "q", [], ["model_type"], "e", "0.1.1", "f", 1)
    assert fill.check(" Model_Type ") and not fill.check("architectures")


def test_anchor_resolution_on_fixtures(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "m.py").write_text("X = 1\n\n\ndef f():\n    pass\n\n\nclass C:\n    def meth(self):\n        pass\n")
    assert bank.resolve_anchor("pkg/m.py::f", tmp_path).line == 4
    assert bank.resolve_anchor("pkg/m.py::C.meth", tmp_path).line == 9
    assert bank.resolve_anchor("pkg/m.py::X", tmp_path).line == 1
    for bad in ("pkg/m.py::g", "pkg/nope.py::f", "pkg/m.py", "pkg/m.py::C.nope"):
        with pytest.raises(ValueError):
            bank.resolve_anchor(bad, tmp_path)


def test_interview_validation_rejects_rotten_anchor_and_bad_rubric(tmp_path, course):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mod.py").write_text("def repeat_kv(x, n):\n    return x\n")
    _write(tmp_path, "a.yaml", """\
    questions:
      - id: q1
        level: 基础
        topic: 架构
        question: q
        answer: a
        rubric: {60: a, 80: b, 100: c}
        source: [src/mod.py::repeat_kv]
      - id: q2
        level: 大师
        topic: 架构
        question: q
        answer: a
        rubric: {60: a, 100: c}
        sections: ["42.1"]
        source: [src/mod.py::gone]
    """)
    errors = []
    qs = bank.load_interview_file(tmp_path / "a.yaml", {s.id for s in course.sections}, errors, tmp_path)
    assert qs[0].source[0].line == 1
    text = "\n".join(map(str, errors))
    assert "a.yaml:9: q2: level must be one of" in text
    assert "a.yaml:9: q2: rubric must say" in text
    assert "a.yaml:9: q2: section 42.1 does not exist" in text
    assert "a.yaml:9: q2: anchor 'src/mod.py::gone'" in text


def test_real_interview_bank(course):
    qs = bank.load_interview(course)
    topics = {q.topic for q in qs}
    assert len([q for q in qs if q.topic != "概念"]) >= 30
    assert {"数据", "架构", "训练", "推理与生成", "系统设计", "概念"} <= topics
    assert len([q for q in qs if q.topic == "概念"]) == 10
    assert all(set(q.rubric) == {60, 80, 100} for q in qs)
    links = [link for q in qs for link in q.source]
    assert links and all(link.line > 0 for link in links)  # every anchor resolved against the real minillm


# -- storage and web -----------------------------------------------------------------------------------------
@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.learn import web
    from hfcourse.web.app import create_app

    web._bank.cache_clear()
    return TestClient(create_app())


def test_rubric_self_score_persists_and_schedules_review(client):
    r = client.post("/api/learn/interview/iv-con-02/score", json={"score": 60, "answer": "我的回答"})
    assert r.status_code == 200
    assert client.post("/api/learn/interview/iv-con-02/score", json={"score": 70}).status_code == 422
    assert "上次自评：60" in client.get("/learn/interview/iv-con-02").text
    assert "自评 60" in client.get("/learn").text
    ref = client.get("/api/learn/interview/iv-con-02/reference").json()
    assert set(ref["rubric"]) == {"60", "80", "100"}


def test_quiz_feedback_links_to_section_and_history_is_kept(client):
    r = client.post("/api/learn/quiz/0/answer", json={"item_id": "ch00-q12", "answer": 1}).json()
    assert r["correct"] is False and r["link"] == "/c/0/0.3#0.3.3" and r["explanation"]
    assert client.post("/api/learn/quiz/0/answer", json={"item_id": "ch00-q12", "answer": 0}).json()["correct"]
    client.post("/api/learn/quiz/0/finish", json={"score": 7})
    hist = client.post("/api/learn/quiz/0/finish", json={"score": 9}).json()["history"]
    assert [h["score"] for h in hist] == [7, 9]
    assert client.get("/api/learn/review").json()["due"] == []  # just reviewed: not due now


def test_pages_and_api_never_expose_solutions_or_answers(client):
    from hfcourse.learn.grader import load_tasks

    for t in load_tasks().values():
        solution = (t.dir / "solution.py").read_text()
        # a distinctive line of the reference solution, not present in the starter
        marker = next(ln.strip() for ln in solution.splitlines()
                      if ln.strip() and ln.strip() not in t.starter and len(ln.strip()) > 20)
        for url in (f"/learn/tasks/{t.id}", "/api/learn/tasks", "/learn"):
            assert marker not in client.get(url).text, (t.id, url)
    quiz_html = client.get("/learn/quiz/0").text
    assert "explanation" not in quiz_html and "三者都通过 from_pretrained 加载" not in quiz_html
    iv_html = client.get("/learn/interview/iv-con-01").text
    assert "O(n²·d)" not in iv_html  # the reference answer comes only from the reveal endpoint


def test_fsrs_due_dates_move_as_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path))
    from fsrs import Card, Rating, Scheduler

    from hfcourse.learn import store
    from hfcourse.web import db

    engine = db.make_engine()
    db.migrate(engine)
    Session = db.sessions(engine)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Session() as s, s.begin():
        good1 = store.review(s, 1, "quiz:a", Rating.Good, t0)
        again = store.review(s, 1, "quiz:b", Rating.Again, t0)
    # the stored card reproduces what fsrs itself computes for the same history
    ref, _ = Scheduler(enable_fuzzing=False).review_card(Card(), Rating.Good, review_datetime=t0)
    assert good1 == ref.due
    assert again <= good1
    with Session() as s:
        assert store.due_cards(s, 1, t0) == []
        assert store.due_cards(s, 1, again) == ["quiz:b"]
        assert set(store.due_cards(s, 1, good1)) == {"quiz:a", "quiz:b"}
    # reviewing "good" again at its due time pushes the next due date further out than the first interval
    with Session() as s, s.begin():
        good2 = store.review(s, 1, "quiz:a", Rating.Good, good1)
        easy = store.review(s, 1, "quiz:c", Rating.Easy, t0)
    assert good2 - good1 > good1 - t0
    assert easy - t0 >= timedelta(days=1) > good1 - t0
    with Session() as s:
        assert store.due_cards(s, 1, good1 + timedelta(seconds=1)) == ["quiz:b"]


def test_checklist_progress_persists(client):
    r = client.post("/api/learn/checklist/stage3-09", json={"done": True}).json()
    assert r["progress"]["stage3"] == [1, 10]
    assert client.post("/api/learn/checklist/nope", json={"done": True}).status_code == 404
    html = client.get("/learn/checklist").text
    assert 'data-id="stage3-09" checked' in html and "1/10" in html
    r = client.post("/api/learn/checklist/stage3-09", json={"done": False}).json()
    assert r["progress"]["stage3"] == [0, 10]


def test_study_plan_links_written_chapters_and_marks_others_planned(client):
    html = client.get("/learn/plan").text
    assert 'href="/c/0"' in html and "第 23 章 Attention 机制深度解析（规划中）" in html
    assert 'href="/learn/tasks/rope"' in html and 'href="/learn/quiz/0"' in html
