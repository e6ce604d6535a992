"""What a push says, in the recipient's language (Chinese or English): subject, plain text and
simple HTML (both readable by screen readers), why it was sent, and where to stop it.

Payloads hold structured, non-sensitive data (no disability category, grade, certificate
number or health notes; health-related accommodations are left out when the push is written),
so a push can be rendered again in another language."""

import html
from dataclasses import dataclass
from typing import Any

from api.services import outbox

Lang = str  # "zh" or "en"


@dataclass(frozen=True)
class Message:
    subject: str
    lines: list[str]  # the body, one item or paragraph a line
    why: str
    stop: str  # the sentence that says how to stop, with the links
    stop_url: str
    preferences_url: str
    language: Lang

    @property
    def text(self) -> str:
        """Plain text: the body, then why, then how to stop."""
        return "\n".join([self.subject, "", *self.lines, "", self.why, "", self.stop]) + "\n"

    @property
    def html(self) -> str:
        """Simple HTML: a language, a heading, a list, links with meaningful text."""
        e = html.escape
        lang = "zh-CN" if self.language == "zh" else "en"
        items = "".join(f"<li>{e(line)}</li>" for line in self.lines)
        stop_label = "一键停止全部推送" if self.language == "zh" else "Stop all pushes"
        prefs_label = "修改推送偏好" if self.language == "zh" else "Change your push preferences"
        return (
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{e(self.subject)}</title></head><body>"
            f"<h1>{e(self.subject)}</h1><ul>{items}</ul>"
            f"<p>{e(self.why)}</p>"
            f'<p><a href="{e(self.preferences_url)}">{prefs_label}</a> · '
            f'<a href="{e(self.stop_url)}">{stop_label}</a></p>'
            "</body></html>"
        )


def _pct(score: Any) -> str:
    return f"{round(float(score) * 100)}%"


def _join(items: list[str], lang: Lang) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _labels(items: list[Any], lang: Lang) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(str(item.get(lang) or item.get("zh") or item.get("en") or ""))
        else:
            out.append(str(item))
    return [x for x in out if x]


def _reasons(item: dict[str, Any], lang: Lang) -> str:
    zh = lang == "zh"
    parts: list[str] = []
    if item.get("matched_skills"):
        label = "符合的技能：" if zh else "matching skills: "
        parts.append(label + _join(item["matched_skills"], lang))
    if item.get("missing_skills"):
        label = "尚缺的技能：" if zh else "skills still missing: "
        parts.append(label + _join(item["missing_skills"], lang))
    met = _labels(item.get("needs_met", []), lang)
    if met:
        parts.append(
            ("已提供的便利条件：" if zh else "accommodations available: ") + _join(met, lang)
        )
    arr = _labels(item.get("needs_arrangeable", []), lang)
    if arr:
        label = "可以安排的便利条件：" if zh else "accommodations that can be arranged: "
        parts.append(label + _join(arr, lang))
    if item.get("distance_km") is not None:
        km = f"{float(item['distance_km']):.1f}"
        parts.append(f"距离约 {km} 公里" if zh else f"about {km} km away")
    return ("；" if zh else "; ").join(parts)


ACCESSIBILITY_KINDS = (
    outbox.ACCESSIBILITY_DISPUTE,
    outbox.ACCESSIBILITY_REPLY,
    outbox.ACCESSIBILITY_RECHECK,
)
RESULT_WORDS = {
    "not_found": ("未找到", "not found"),
    "partly": ("部分具备", "only partly there"),
    "confirmed": ("已确认", "confirmed"),
}


def _accessibility(kind: str, payload: dict[str, Any], lang: Lang) -> tuple[str, list[str], str]:
    """Subject, lines and why of an accessibility push (workplace facts only, no person)."""
    zh = lang == "zh"
    title = str(payload.get("title", ""))
    pid = payload.get("posting_id")
    url = str(payload.get("url", ""))
    lines: list[str] = []
    if kind == outbox.ACCESSIBILITY_DISPUTE:
        subject = (
            f"【无障碍核查】岗位「{title}」有便利条件未被核实"
            if zh
            else f'[jobmatch] Accessibility check: claims of "{title}" not confirmed'
        )
        for feature in payload.get("features", []):
            label = _labels([feature.get("label", {})], lang)
            word = RESULT_WORDS.get(str(feature.get("result")), ("", ""))[0 if zh else 1]
            note = str(feature.get("note") or "")
            name = label[0] if label else str(feature.get("code", ""))
            lines.append(
                f"{name}：{word}" + (f"（{note}）" if note else "")
                if zh
                else f"{name}: {word}" + (f" ({note})" if note else "")
            )
        lines.append(
            f"核查日期 {payload.get('visited_on')}。在岗位上这些条件现显示为“有争议”，"
            f"在您答复或复查之前不会被悄悄删除。请在 {url} 答复或更正。"
            if zh
            else f"Checked on {payload.get('visited_on')}. On the posting these features now "
            "show as disputed; nothing is removed without you. Answer or correct the claim at "
            f"{url}."
        )
        why = (
            f"您收到这条通知，是因为核查人员实地核查了贵单位岗位 #{pid} 所声明的无障碍条件。"
            if zh
            else f"You receive this because a checker visited the workplace of your posting "
            f"#{pid} and checked the accessibility it claims."
        )
    elif kind == outbox.ACCESSIBILITY_REPLY:
        subject = (
            f"【无障碍核查】用人单位答复了岗位「{title}」的核查结果"
            if zh
            else f'[jobmatch] The employer answered your check of "{title}"'
        )
        label = _labels([payload.get("label", {})], lang)
        lines.append(
            f"{label[0] if label else ''}：{payload.get('note', '')}"
            if zh
            else f"{label[0] if label else ''}: {payload.get('note', '')}"
        )
        lines.append(f"详情见 {url}" if zh else f"Details at {url}")
        why = (
            "您收到这条通知，是因为这次核查由您记录。"
            if zh
            else "You receive this because you recorded this check."
        )
    else:
        expired = payload.get("state") == "expired"
        subject = (
            f"【无障碍核查】岗位「{title}」的核查{'已过期' if expired else '即将过期'}"
            if zh
            else f'[jobmatch] The accessibility check of "{title}" '
            f"{'has expired' if expired else 'expires soon'}"
        )
        lines.append(
            f"上次核查 {payload.get('visited_on')}，有效期至 {payload.get('expires_on')}。"
            f"请安排复查：{url}"
            if zh
            else f"Last checked {payload.get('visited_on')}, valid until "
            f"{payload.get('expires_on')}. Please arrange a new check: {url}"
        )
        why = (
            "您收到这条提醒，是因为该岗位属于您所在服务中心；每次核查最多提醒两次（即将过期、已过期）。"
            if zh
            else "You receive this because the posting belongs to your service centre; each "
            "check is reminded at most twice (expiring soon, expired)."
        )
    return subject, lines, why


def render(
    kind: str,
    payload: dict[str, Any],
    lang: Lang,
    *,
    stop_url: str,
    preferences_url: str,
) -> Message:
    """The message of one push in lang ("zh" or "en")."""
    lang = "en" if lang == "en" else "zh"
    zh = lang == "zh"
    period = str(payload.get("period", ""))
    lines: list[str] = []
    if kind == outbox.DIGEST:
        items = payload.get("items", [])
        subject = (
            f"【就业推荐】{len(items)} 个新的匹配岗位（{period}）"
            if zh
            else f"[jobmatch] {len(items)} new job matches for you ({period})"
        )
        for i, it in enumerate(items, 1):
            head = (
                f"{i}. {it['title']} — {it.get('employer', '')}（匹配度 {_pct(it['score'])}）"
                if zh
                else f"{i}. {it['title']} — {it.get('employer', '')} (match {_pct(it['score'])})"
            )
            reasons = _reasons(it, lang)
            lines.append(head + (("。理由：" if zh else ". Why: ") + reasons if reasons else ""))
        freq = payload.get("frequency", "weekly")
        threshold = _pct(payload.get("min_score", 0))
        why = (
            f"您收到这条推荐，是因为您选择了{'每日' if freq == 'daily' else '每周'}岗位推荐，"
            f"以上岗位是自上次推荐以来新发布、匹配度不低于您设定的 {threshold} 的岗位。"
            "推荐由系统根据您的技能、便利需求、地点和期望自动生成，每条都附有理由。"
            if zh
            else f"You receive this because you chose {freq} job recommendations; these postings "
            f"are new since your last digest and score at least your threshold of {threshold}. "
            "They are chosen automatically from your skills, accommodation needs, place and "
            "wishes; each comes with its reasons."
        )
    elif kind == outbox.TRAINING_OFFER:
        t = payload.get("training", {})
        subject = (
            f"【培训推荐】{t.get('title', '')}"
            if zh
            else f"[jobmatch] Training that fits you: {t.get('title', '')}"
        )
        skills = _join(list(payload.get("skills", [])), lang)
        lines.append(
            f"课程教授您尚缺的技能：{skills}。开课日期 {t.get('starts_on')}，地点 "
            f"{t.get('location_text') or '—'}，剩余名额 {t.get('seats_left')}。"
            if zh
            else f"It teaches skills you are missing: {skills}. Starts {t.get('starts_on')}, at "
            f"{t.get('location_text') or '—'}, {t.get('seats_left')} seat(s) left."
        )
        for p in payload.get("postings", []):
            missing = _join(list(p.get("missing_skills", [])), lang)
            lines.append(
                f"您几乎匹配的岗位：{p['title']}（尚缺：{missing}）"
                if zh
                else f"A posting you nearly match: {p['title']} (missing: {missing})"
            )
        why = (
            "您收到这条推荐，是因为您几乎匹配上述岗位、只差这门课程所教的技能，"
            "课程在您附近、满足您的便利需求、尚有名额且尚未开课。推荐由系统自动生成。"
            if zh
            else "You receive this because you nearly match the postings above and lack only "
            "skills this course teaches; it is near you, accessible for your needs, has seats "
            "left and has not started. It was chosen automatically."
        )
    elif kind == outbox.REFERRAL_REMINDER:
        rid = payload.get("referral_id")
        hours = payload.get("overdue_hours", 0)
        subject = (
            f"【待办提醒】推荐 #{rid} 已超过处理期限"
            if zh
            else f"[jobmatch] Referral #{rid} is past its deadline"
        )
        lines.append(
            f"推荐 #{rid} 的处理期限为 {payload.get('deadline_at')}，已超时约 {hours} 小时，"
            "请尽快审核。"
            if zh
            else f"Referral #{rid} was due {payload.get('deadline_at')} and is about "
            f"{hours} hour(s) overdue; please review it."
        )
        why = (
            "您收到这条提醒，是因为该推荐属于您所在服务中心，且已超过处理期限。每条推荐每天最多提醒一次。"
            if zh
            else "You receive this because the referral belongs to your service centre and is "
            "past its deadline. Each referral is reminded at most once a day."
        )
    elif kind == outbox.EMPLOYER_DIGEST:
        postings = payload.get("postings", [])
        total = sum(len(p.get("candidates", [])) for p in postings)
        subject = (
            f"【新候选人】您的岗位有 {total} 位新的候选人（{period}）"
            if zh
            else f"[jobmatch] {total} new candidates for your postings ({period})"
        )
        for p in postings:
            cands = ", ".join(
                f"{c['candidate']} ({_pct(c['score'])})" for c in p.get("candidates", [])
            )
            lines.append(f"{p['title']}：{cands}" if zh else f"{p['title']}: {cands}")
        why = (
            "您收到这条消息，是因为您有开放中的岗位，且自上次通知以来有新的匹配候选人。"
            "候选人以化名显示；在对方同意的推荐中才会看到更多信息。"
            if zh
            else "You receive this because you have open postings and new candidates match them "
            "since your last notice. Candidates are shown under pseudonyms; you see more only "
            "in a referral the candidate agreed to."
        )
    elif kind == outbox.POSTING_EXPIRED:
        subject = (
            f"【岗位已关闭】{payload.get('title', '')}"
            if zh
            else f"[jobmatch] Posting closed: {payload.get('title', '')}"
        )
        lines.append(
            f"岗位 #{payload.get('posting_id')}「{payload.get('title', '')}」已于 "
            f"{payload.get('expires_at')} 到期，系统已将其关闭。"
            "如仍在招聘，请更新有效期后重新开放。"
            if zh
            else f'Posting #{payload.get("posting_id")} "{payload.get("title", "")}" expired on '
            f"{payload.get('expires_at')} and was closed. If you are still hiring, extend it and "
            "open it again."
        )
        why = (
            "您收到这条通知，是因为该岗位由您的单位发布，且已过有效期。"
            if zh
            else "You receive this because your organisation posted it and it has expired."
        )
    elif kind in ACCESSIBILITY_KINDS:
        subject, lines, why = _accessibility(kind, payload, lang)
    elif payload.get("title") and payload.get("body"):
        # Event pushes (referrals) are worded when the event happens, in the recipient's
        # language then; they name no person, disability or need.
        subject = str(payload["title"])
        lines.append(str(payload["body"]))
        why = (
            "您收到这条消息，是因为一份与您有关的推荐有了变化。"
            if zh
            else "You receive this because a referral you take part in has changed."
        )
    else:
        subject = "jobmatch"
        why = ""
    stop = (
        f"不想再收到此类推送？在 {preferences_url} 修改推送偏好，"
        f"或打开 {stop_url} 一键停止全部推送。"
        if zh
        else f"Don't want these? Change your push preferences at {preferences_url}, or stop all "
        f"pushes at once at {stop_url}."
    )
    return Message(
        subject=subject,
        lines=lines,
        why=why,
        stop=stop,
        stop_url=stop_url,
        preferences_url=preferences_url,
        language=lang,
    )
