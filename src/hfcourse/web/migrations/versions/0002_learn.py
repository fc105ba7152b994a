"""practice and assessment: quiz attempts, interview self-scores, task best scores, checklists, review cards

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learn_quiz_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("chapter", sa.Integer, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "learn_interview_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("question_id", sa.String(50), nullable=False, index=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "learn_task_best",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("task_id", sa.String(50), nullable=False),
        sa.Column("best", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("learner_id", "task_id"),
    )
    op.create_table(
        "learn_checklist",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("item_id", sa.String(80), nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.UniqueConstraint("learner_id", "item_id"),
    )
    op.create_table(
        "learn_review_cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("card_key", sa.String(80), nullable=False),
        sa.Column("card_json", sa.Text, nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.UniqueConstraint("learner_id", "card_key"),
    )


def downgrade() -> None:
    for t in ("learn_review_cards", "learn_checklist", "learn_task_best", "learn_interview_scores",
              "learn_quiz_attempts"):
        op.drop_table(t)
