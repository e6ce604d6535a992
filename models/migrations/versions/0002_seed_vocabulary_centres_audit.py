"""seed the accommodation vocabulary and the nine centres; make audit_log append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, group, label_zh, label_en, health_related)
# Grouped after the Job Accommodation Network's limitation -> accommodation model.
VOCABULARY = [
    ("step_free_entrance", "access", "无台阶入口", "Step-free entrance", False),
    ("lift", "access", "电梯", "Lift / elevator", False),
    ("accessible_restroom", "access", "无障碍卫生间", "Accessible restroom", False),
    ("accessible_parking", "access", "无障碍停车位", "Accessible parking", False),
    ("short_walking_distances", "access", "步行距离短", "Short walking distances", False),
    ("accessible_transit_nearby", "access", "附近有无障碍公共交通", "Accessible public transport nearby", False),
    ("height_adjustable_desk", "workstation", "可调节高度的办公桌", "Height-adjustable desk", False),
    ("alternative_input_devices", "workstation", "替代键盘或鼠标", "Alternative keyboard or mouse", False),
    ("ergonomic_seating", "workstation", "人体工学座椅", "Ergonomic seating", False),
    ("screen_reader_software", "vision", "兼容读屏软件", "Screen-reader-compatible software", False),
    ("screen_magnification", "vision", "屏幕放大", "Screen magnification", False),
    ("braille_large_print", "vision", "盲文或大字材料", "Braille or large-print material", False),
    ("accessible_documents", "vision", "无障碍文档", "Accessible documents", False),
    ("sign_language_interpreter", "hearing", "手语翻译", "Sign-language interpreter", False),
    ("live_captioning", "hearing", "实时字幕", "Live captioning", False),
    ("visual_vibrating_alarms", "hearing", "可视或振动警报", "Visual or vibrating alarms", False),
    ("text_instead_of_phone", "hearing", "以文字代替电话沟通", "Text-based communication instead of phone", False),
    ("chat_instead_of_phone", "speech", "以文字或聊天代替电话", "Text or chat instead of phone", False),
    ("aac_device_support", "speech", "支持辅助沟通设备（AAC）", "AAC device support", False),
    ("written_instructions", "cognitive", "书面分步说明", "Written step-by-step instructions", False),
    ("job_coach", "cognitive", "就业辅导员", "Job coach", False),
    ("extra_training_time", "cognitive", "延长培训时间", "Extra training time", False),
    ("predictable_routine", "cognitive", "固定可预期的工作安排", "Predictable routine", False),
    ("flexible_schedule", "mental_health", "弹性工作时间安排", "Flexible schedule", True),
    ("quiet_workspace", "mental_health", "安静的工作区", "Quiet workspace", False),
    ("extra_breaks", "mental_health", "额外休息时间", "Extra breaks", True),
    ("leave_for_treatment", "mental_health", "治疗请假", "Leave for treatment", True),
    ("part_time", "schedule_place", "非全日制", "Part-time", False),
    ("flexible_hours", "schedule_place", "弹性工时", "Flexible hours", False),
    ("remote_work", "schedule_place", "远程办公", "Remote work", False),
    ("hybrid_work", "schedule_place", "混合办公", "Hybrid work", False),
    ("interview_with_interpreter", "hiring_process", "面试配手语翻译", "Interview with interpreter", False),
    ("questions_in_advance", "hiring_process", "提前提供面试问题", "Interview questions in advance", False),
    ("alternative_test_formats", "hiring_process", "替代测试形式", "Alternative test formats", False),
]

# The district's nine street-level service centres (职康中心).
CENTRES = [
    ("heping", "和平街道职康中心", "Heping Street Centre", "和平街道", 30.2741, 120.1551),
    ("xinhua", "新华街道职康中心", "Xinhua Street Centre", "新华街道", 30.2803, 120.1632),
    ("donghu", "东湖街道职康中心", "Donghu Street Centre", "东湖街道", 30.2690, 120.1798),
    ("xihu", "西湖街道职康中心", "Xihu Street Centre", "西湖街道", 30.2590, 120.1390),
    ("nanyuan", "南苑街道职康中心", "Nanyuan Street Centre", "南苑街道", 30.2455, 120.1620),
    ("beiguan", "北关街道职康中心", "Beiguan Street Centre", "北关街道", 30.2950, 120.1545),
    ("changan", "长安街道职康中心", "Chang'an Street Centre", "长安街道", 30.2860, 120.1420),
    ("wenhua", "文化街道职康中心", "Wenhua Street Centre", "文化街道", 30.2655, 120.1505),
    ("binjiang", "滨江街道职康中心", "Binjiang Street Centre", "滨江街道", 30.2380, 120.1800),
]

accommodation = sa.table(
    "accommodation",
    sa.column("code", sa.String),
    sa.column("group", sa.String),
    sa.column("label_zh", sa.String),
    sa.column("label_en", sa.String),
    sa.column("description_zh", sa.String),
    sa.column("description_en", sa.String),
    sa.column("health_related", sa.Boolean),
    sa.column("active", sa.Boolean),
)
centre = sa.table(
    "centre",
    sa.column("code", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("name_en", sa.String),
    sa.column("street_zh", sa.String),
    sa.column("address", sa.String),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
)


def upgrade() -> None:
    op.bulk_insert(
        accommodation,
        [
            {
                "code": code, "group": group, "label_zh": zh, "label_en": en,
                "description_zh": "", "description_en": "",
                "health_related": health, "active": True,
            }
            for code, group, zh, en, health in VOCABULARY
        ],
    )
    op.bulk_insert(
        centre,
        [
            {"code": code, "name_zh": zh, "name_en": en, "street_zh": street,
             "address": street, "lat": lat, "lon": lon}
            for code, zh, en, street, lat, lon in CENTRES
        ],
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    elif bind.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.execute(centre.delete().where(centre.c.code.in_([c[0] for c in CENTRES])))
    op.execute(accommodation.delete().where(accommodation.c.code.in_([v[0] for v in VOCABULARY])))
