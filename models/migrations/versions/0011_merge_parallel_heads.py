"""merge the four parallel branches (quota figures, accessibility checks, posting import,
learning from outcomes) into one head

Revision ID: 0011
Revises: 0007, 0008, 0009, 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: tuple[str, ...] = ("0007", "0008", "0009", "0010")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to change."""
