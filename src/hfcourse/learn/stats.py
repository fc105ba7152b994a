"""Assessment counts for `hfcourse stats` (appended to CONTRIBUTORS on import)."""

from __future__ import annotations

from collections import Counter

from ..content.stats import CONTRIBUTORS


def assessment_counts(course) -> dict:
    from .bank import load_interview, load_quizzes
    from .grader import load_tasks

    quizzes = load_quizzes(course)
    interview = load_interview(course)
    items = [i for q in quizzes for i in q.items]
    return {
        "quiz_items": len(items),
        "quiz_items_per_type": dict(Counter(i.type for i in items)),
        "interview_questions": len(interview),
        "interview_per_topic": dict(Counter(q.topic for q in interview)),
        "interview_per_level": dict(Counter(q.level for q in interview)),
        "coding_tasks": len(load_tasks()),
    }


CONTRIBUTORS.append(assessment_counts)
