"""a seeker may be referred to a posting again after a withdrawn or rejected referral: the
unique (seeker, posting) constraint becomes a unique index over live referrals only

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status NOT IN ('withdrawn', 'rejected')")


def upgrade() -> None:
    with op.batch_alter_table("referral") as batch_op:
        batch_op.drop_constraint("uq_referral_seeker_id_posting_id", type_="unique")
    op.create_index(
        "uq_referral_live_pair",
        "referral",
        ["seeker_id", "posting_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    """Back to one referral per pair ever; fails while a pair has been referred twice."""
    op.drop_index("uq_referral_live_pair", table_name="referral")
    with op.batch_alter_table("referral") as batch_op:
        batch_op.create_unique_constraint(
            "uq_referral_seeker_id_posting_id", ["seeker_id", "posting_id"]
        )
