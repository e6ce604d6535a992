"""posting import: source, external id (unique per source), import hash and version

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
        batch_op.add_column(
            sa.Column("import_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("imported_version", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_posting_source_external_id"), ["source", "external_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_posting_source_external_id"), type_="unique")
        batch_op.drop_column("imported_version")
        batch_op.drop_column("import_hash")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")
