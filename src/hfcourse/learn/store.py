"""Learner data for quizzes, interview practice, coding tasks, checklists and the review queue.

Tables live on the web app's SQLAlchemy `Base` and are created by its Alembic migration 0002_learn.
The review queue schedules quiz items and interview questions with FSRS (`fsrs` package): each card is
stored as the library's own JSON and its `due` time is copied into a column so that "what is due" is a query.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fsrs import Card, Rating, Scheduler
from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..web.db import Base, now


class QuizAttempt(Base):
    __tablename__ = "learn_quiz_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    chapter: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class InterviewScore(Base):
    __tablename__ = "learn_interview_scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(50), index=True)
    score: Mapped[int] = mapped_column(Integer)  # 0, 60, 80 or 100 (self-assessed against the rubric)
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class TaskBest(Base):
    __tablename__ = "learn_task_best"
    __table_args__ = (UniqueConstraint("learner_id", "task_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(50))
    best: Mapped[float] = mapped_column(Float)  # fraction of tests passed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ChecklistItem(Base):
    __tablename__ = "learn_checklist"
    __table_args__ = (UniqueConstraint("learner_id", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(80))
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewCard(Base):
    __tablename__ = "learn_review_cards"
    __table_args__ = (UniqueConstraint("learner_id", "card_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    card_key: Mapped[str] = mapped_column(String(80))  # "quiz:ch00-q01" or "interview:iv-con-01"
    card_json: Mapped[str] = mapped_column(Text)
    due: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)  # SQLite drops the zone


def record_quiz(sess, learner: int, chapter: int, score: int, total: int) -> None:
    sess.add(QuizAttempt(learner_id=learner, chapter=chapter, score=score, total=total))


def quiz_history(sess, learner: int, chapter: int) -> list[QuizAttempt]:
    return list(sess.scalars(select(QuizAttempt).where(QuizAttempt.learner_id == learner,
                                                       QuizAttempt.chapter == chapter).order_by(QuizAttempt.id)))


def record_interview(sess, learner: int, question_id: str, score: int, answer: str = "") -> None:
    if score not in (0, 60, 80, 100):
        raise ValueError("score must be 0, 60, 80 or 100")
    sess.add(InterviewScore(learner_id=learner, question_id=question_id, score=score, answer=answer))


def interview_scores(sess, learner: int) -> dict[str, int]:
    """Latest self-score per question."""
    rows = sess.scalars(select(InterviewScore).where(InterviewScore.learner_id == learner).order_by(InterviewScore.id))
    return {r.question_id: r.score for r in rows}


def record_task(sess, learner: int, task_id: str, fraction: float) -> float:
    row = sess.scalar(select(TaskBest).where(TaskBest.learner_id == learner, TaskBest.task_id == task_id))
    if row is None:
        row = TaskBest(learner_id=learner, task_id=task_id, best=fraction, attempts=0)
        sess.add(row)
    row.best = max(row.best, fraction)
    row.attempts = (row.attempts or 0) + 1
    row.updated_at = now()
    return row.best


def set_checklist(sess, learner: int, item_id: str, done: bool) -> None:
    row = sess.scalar(select(ChecklistItem).where(ChecklistItem.learner_id == learner, ChecklistItem.item_id == item_id))
    if row is None:
        row = ChecklistItem(learner_id=learner, item_id=item_id)
        sess.add(row)
    row.done = done


def checklist_done(sess, learner: int) -> set[str]:
    return set(sess.scalars(select(ChecklistItem.item_id).where(ChecklistItem.learner_id == learner,
                                                                 ChecklistItem.done.is_(True))))


# -- review queue --------------------------------------------------------------------------------------------
SCHEDULER = Scheduler(enable_fuzzing=False)  # no fuzz: due dates are reproducible
RATINGS = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}


def rating_for(correct_or_score) -> Rating:
    """Quiz: True/False. Interview: self-score 0/60/80/100."""
    if isinstance(correct_or_score, bool):
        return Rating.Good if correct_or_score else Rating.Again
    return {0: Rating.Again, 60: Rating.Hard, 80: Rating.Good, 100: Rating.Easy}[int(correct_or_score)]


def review(sess, learner: int, card_key: str, rating: Rating, when: datetime | None = None) -> datetime:
    """Apply one review to the card (created on first review); returns the new due time."""
    when = when or datetime.now(timezone.utc)
    row = sess.scalar(select(ReviewCard).where(ReviewCard.learner_id == learner, ReviewCard.card_key == card_key))
    card = Card.from_json(row.card_json) if row else Card()
    card, _log = SCHEDULER.review_card(card, rating, review_datetime=when)
    if row is None:
        row = ReviewCard(learner_id=learner, card_key=card_key)
        sess.add(row)
    row.card_json, row.due = card.to_json(), card.due
    return card.due


def due_cards(sess, learner: int, when: datetime | None = None) -> list[str]:
    when = when or datetime.now(timezone.utc)
    rows = sess.scalars(select(ReviewCard).where(ReviewCard.learner_id == learner).order_by(ReviewCard.due))
    return [r.card_key for r in rows if _aware(r.due) <= when]
