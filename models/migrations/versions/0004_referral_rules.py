"""referral rules: the instant-approval (秒批) rules as data, with sensible defaults

It follows 0005 (pushes), which reached main first with down_revision 0003: chaining
0003 -> 0005 -> 0004 keeps one head.

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-29
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = '0004'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (position, code, params, description_zh, description_en); the codes name checks that
# api/services/referral_rules.py implements. Admins change params and switch rules on or off.
DEFAULT_RULES = [
    (10, "essential_needs_met", {"allow_arrangeable": True},
     "求职者的每项必需便利需求，岗位都已提供或可以安排",
     "Every essential accommodation need of the seeker is offered, available or arrangeable"),
    (20, "employer_verified", {},
     "用人单位已通过核验", "The employer has been verified"),
    (30, "seeker_consented", {},
     "求职者已同意向该用人单位提供所列信息", "The seeker consented to share the listed fields"),
    (40, "profile_complete", {"fields": ["full_name", "phone", "skills"]},
     "求职者档案已填写完整（姓名、电话、技能）",
     "The seeker's profile is complete (name, phone, skills)"),
    (50, "posting_open", {},
     "岗位仍在招聘且未过期", "The posting is open and has not expired"),
    (60, "max_open_referrals", {"max": 5},
     "该求职者进行中的推荐不超过 N 个", "The seeker has no more than N open referrals"),
]


def upgrade() -> None:
    approval_rule = op.create_table('approval_rule',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('description_zh', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('description_en', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_approval_rule'))
    )
    now = datetime(2026, 11, 29, tzinfo=UTC)
    op.bulk_insert(
        approval_rule,
        [
            {
                "version": 1,
                "enabled": True,
                "params": params,
                "description_zh": zh,
                "description_en": en,
                "code": code,
                "position": position,
                "updated_at": now,
                "updated_by": None,
            }
            for position, code, params, zh, en in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_table('approval_rule')
