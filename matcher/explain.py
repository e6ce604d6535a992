"""Plain-language explanations of a match, in Chinese or English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matcher.types import Explanation, Language

SIGNAL_LABELS: dict[str, dict[str, str]] = {
    "dense": {"zh": "岗位内容与您的经历相近", "en": "the job is close to your experience"},
    "lexical": {"zh": "岗位用词与您的资料相符", "en": "the job uses the words of your profile"},
    "skills": {"zh": "您的技能符合要求", "en": "your skills match"},
    "needs": {"zh": "能提供您需要的便利条件", "en": "it offers the accommodations you need"},
    "location": {"zh": "通勤距离近", "en": "it is close to you"},
    "wage": {"zh": "薪资符合期望", "en": "the pay meets your expectation"},
    "freshness": {"zh": "新近发布", "en": "it was posted recently"},
    "fit": {"zh": "工作方式与时间合适", "en": "the work mode and hours suit you"},
}

# When the reader is an employer the subject is the candidate, not "you".
EMPLOYER_SIGNAL_LABELS: dict[str, dict[str, str]] = {
    "dense": {"zh": "求职意向与岗位内容相近", "en": "the candidate's profile is close to the job"},
    "lexical": {"zh": "资料用词与岗位相符", "en": "the profile uses the job's words"},
    "skills": {"zh": "技能符合要求", "en": "the candidate's skills match"},
    "needs": {"zh": "岗位能满足其便利需求", "en": "the job offers the accommodations needed"},
    "location": {"zh": "通勤距离近", "en": "the candidate lives close by"},
    "wage": {"zh": "薪资符合其期望", "en": "the pay meets the candidate's expectation"},
    "fit": {"zh": "工作方式与时间合适", "en": "the work mode and hours suit the candidate"},
}

Labels = Mapping[str, Mapping[str, str]]


def _label(code: str, language: Language, labels: Labels | None) -> str:
    if labels and code in labels:
        return labels[code].get(language) or next(iter(labels[code].values()), code)
    return code


def _join(items: Sequence[str], language: Language) -> str:
    return ("、" if language == "zh" else ", ").join(items)


def explanation_text(
    language: Language,
    matched_skills: Sequence[str],
    missing_skills: Sequence[str],
    needs_met: Sequence[str],
    needs_arrangeable: Sequence[str],
    needs_unmet: Sequence[str],
    distance_km: float | None,
    top_signal: str,
    labels: Labels | None = None,
    for_employer: bool = False,
) -> str:
    """One to a few plain sentences saying why this result is shown."""
    zh = language == "zh"
    table = {**SIGNAL_LABELS, **(EMPLOYER_SIGNAL_LABELS if for_employer else {})}
    reason = table.get(top_signal, {}).get(language, top_signal)
    met = [_label(c, language, labels) for c in needs_met]
    arr = [_label(c, language, labels) for c in needs_arrangeable]
    unmet = [_label(c, language, labels) for c in needs_unmet]
    sentences: list[str] = []
    if zh:
        sentences.append(f"推荐的主要依据：{reason}。")
        if matched_skills:
            sentences.append(f"符合的技能：{_join(matched_skills, language)}。")
        if missing_skills:
            sentences.append(f"尚缺的技能：{_join(missing_skills, language)}。")
        if met:
            sentences.append(f"已提供的便利条件：{_join(met, language)}。")
        if arr:
            sentences.append(f"可以安排的便利条件：{_join(arr, language)}。")
        if unmet:
            sentences.append(f"暂不能提供：{_join(unmet, language)}。")
        if distance_km is not None:
            sentences.append(f"距离约{distance_km:.1f}公里。")
        return "".join(sentences)
    sentences.append(f"Shown mainly because {reason}.")
    if matched_skills:
        sentences.append(f"Matching skills: {_join(matched_skills, language)}.")
    if missing_skills:
        sentences.append(f"Skills still missing: {_join(missing_skills, language)}.")
    if met:
        sentences.append(f"Accommodations available: {_join(met, language)}.")
    if arr:
        sentences.append(f"Accommodations that can be arranged: {_join(arr, language)}.")
    if unmet:
        sentences.append(f"Not offered: {_join(unmet, language)}.")
    if distance_km is not None:
        sentences.append(f"About {distance_km:.1f} km away.")
    return " ".join(sentences)


# Shares this close count as tied for the top signal, which goes to the first in signal
# order; two computations of the same shares (the batch and the reference path) round
# differently in the last bits.
SHARE_TIE = 1e-9


def build_explanation(
    language: Language,
    matched_skills: list[str],
    missing_skills: list[str],
    needs_met: list[str],
    needs_arrangeable: list[str],
    needs_unmet: list[str],
    distance_km: float | None,
    contributions: Mapping[str, float],
    labels: Labels | None = None,
    for_employer: bool = False,
) -> Explanation:
    """The structured explanation (its sentences are written when first read); top signal =
    largest share of score (the first in signal order among shares within ``SHARE_TIE``)."""
    top = "dense"
    if contributions:
        best = max(contributions.values())
        top = next(name for name, v in contributions.items() if v >= best - SHARE_TIE)
    return Explanation(
        matched_skills=matched_skills,
        missing_skills=missing_skills,
        needs_met=needs_met,
        needs_arrangeable=needs_arrangeable,
        needs_unmet=needs_unmet,
        distance_km=distance_km,
        top_signal=top,
        language=language,
        for_employer=for_employer,
        labels=labels,
    )
