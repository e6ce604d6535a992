"""employer quota figures

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing employers start with no disabled staff recorded (server default 0).
    with op.batch_alter_table("employer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled_staff_grade_1_2", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("disabled_staff_grade_3_4", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("employer", schema=None) as batch_op:
        batch_op.drop_column("disabled_staff_grade_3_4")
        batch_op.drop_column("disabled_staff_grade_1_2")
