"""learners, section progress, notes and bookmarks

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "section_progress",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("section_id", sa.String(20), nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("learner_id", "section_id"),
    )
    op.create_table(
        "point_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False, index=True),
        sa.Column("point_id", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("bookmarked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("learner_id", "point_id"),
    )
    op.execute(sa.text("INSERT INTO learners (id, name, created_at) VALUES (1, 'local', CURRENT_TIMESTAMP)"))


def downgrade() -> None:
    op.drop_table("point_notes")
    op.drop_table("section_progress")
    op.drop_table("learners")
