"""Quota employment (按比例安排残疾人就业): the rules as one pure function, and their text.

No database, no web: figures in, a position out. Every figure is a Decimal. The number of
people required and the shortfall keep their fractions (150 staff × 1.5% = 2.25 people, not
2 or 3), as the formula in design.md has them; each amount of money shown (the fund before
reductions, then the fund payable) is rounded half up to the fen (0.01 yuan), so the
arithmetic on the page can be redone by hand.

The rules (design.md, "Domain facts"; the figures are settings, not code):

- required = staff × ratio (the provincial ratio, at least 1.5%; Beijing 1.7%).
- counted = grade 1–2 staff × severe_weight (2: a grade 1–2 holder counts as two)
  + other disabled staff × 1.
- shortfall = max(0, required − counted); meeting or passing the ratio costs nothing and
  earns nothing.
- fund before reductions = shortfall × the local average yearly wage.
- reductions (design.md names none; these are the national tiered collection,
  财政部公告2023年第8号, in force 2023–2027):
  an employer whose own ratio (counted ÷ staff) reaches reduced_threshold (1%) pays
  share_at_or_above_threshold (50%) of it, one below pays share_below_threshold (90%).
  Set both shares to 1 to collect in full.
- exempt: an employer with at most exempt_max_staff (30) staff pays nothing; its shortfall
  is still shown. The notice exempts enterprises (企业) only, so a government body, public
  institution or social organisation (by its credit code, api.uscc.is_public_body) pays at
  any size.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

FEN: Final = Decimal("0.01")
RATIO_PLACES: Final = Decimal("0.0001")  # the employer's own ratio, shown as 1.33%

Status = Literal["meets", "short", "exempt"]


@dataclass(frozen=True)
class QuotaRules:
    """The configurable figures of the rules (api.settings: JOBMATCH_QUOTA_*)."""

    ratio: Decimal = Decimal("0.015")
    severe_weight: int = 2
    exempt_max_staff: int = 30
    average_wage: Decimal = Decimal("120000")
    reduced_threshold: Decimal = Decimal("0.01")
    share_at_or_above_threshold: Decimal = Decimal("0.5")
    share_below_threshold: Decimal = Decimal("0.9")


@dataclass(frozen=True)
class QuotaFigures:
    """One employer's people: all staff, and the disabled staff by how they count."""

    staff: int
    severe: int  # people holding a grade 1–2 certificate (counted severe_weight each)
    other: int  # other disabled people (grade 3–4, or a grade not known here: counted once)
    public_body: bool = False  # 机关, 事业单位, 社会组织: no small-employer exemption


@dataclass(frozen=True)
class QuotaPosition:
    """Where one employer stands; amounts in yuan, people as exact decimals."""

    staff: int
    disabled_people: int  # severe + other, as persons
    counted: int  # persons with grade 1–2 counted severe_weight times
    required: Decimal  # staff × ratio
    shortfall: Decimal  # max(0, required − counted)
    own_ratio: Decimal  # counted ÷ staff, four places (0 when there are no staff)
    status: Status
    fund_before_reduction: Decimal  # shortfall × wage, to the fen (0 when exempt)
    reached_threshold: bool  # counted ≥ staff × reduced_threshold (the lower share applies)
    pay_share: Decimal  # the share of it payable after reductions (0 when nothing is due)
    fund: Decimal  # what the employer pays, to the fen


def quota_position(figures: QuotaFigures, rules: QuotaRules) -> QuotaPosition:
    """Apply the quota rules to one employer's figures (pure; see the module docstring)."""
    if min(figures.staff, figures.severe, figures.other) < 0:
        raise ValueError("staff and disabled staff cannot be negative")
    counted = figures.severe * rules.severe_weight + figures.other
    required = figures.staff * rules.ratio
    shortfall = max(Decimal(0), required - counted)
    own_ratio = (
        (Decimal(counted) / figures.staff).quantize(RATIO_PLACES, ROUND_HALF_UP)
        if figures.staff
        else Decimal(0)
    )
    # The tier compares exactly (counted ≥ staff × threshold), not the rounded own_ratio.
    reached = counted >= figures.staff * rules.reduced_threshold
    exempt = not figures.public_body and figures.staff <= rules.exempt_max_staff
    if exempt:
        status: Status = "exempt"
    elif shortfall == 0:
        status = "meets"
    else:
        status = "short"
    if status != "short":
        zero = Decimal("0.00")
        return QuotaPosition(
            staff=figures.staff,
            disabled_people=figures.severe + figures.other,
            counted=counted,
            required=required,
            shortfall=shortfall,
            own_ratio=own_ratio,
            status=status,
            reached_threshold=reached,
            fund_before_reduction=zero,
            pay_share=Decimal(0),
            fund=zero,
        )
    before = (shortfall * rules.average_wage).quantize(FEN, ROUND_HALF_UP)
    share = rules.share_at_or_above_threshold if reached else rules.share_below_threshold
    return QuotaPosition(
        staff=figures.staff,
        disabled_people=figures.severe + figures.other,
        counted=counted,
        required=required,
        shortfall=shortfall,
        own_ratio=own_ratio,
        status=status,
        reached_threshold=reached,
        fund_before_reduction=before,
        pay_share=share,
        fund=(before * share).quantize(FEN, ROUND_HALF_UP),
    )


# --- words -----------------------------------------------------------------------------


def percent(value: Decimal) -> str:
    """0.015 → "1.5%"; 0.0133 → "1.33%"."""
    text = format((value * 100).normalize(), "f")
    return text + "%"


def number(value: Decimal | int) -> str:
    """An exact number without trailing zeros: 2.250 → "2.25", 3.000 → "3"."""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return text


def money(value: Decimal) -> str:
    """12345.6 → "12,345.60"."""
    return f"{value.quantize(FEN, ROUND_HALF_UP):,.2f}"


def rule_text(rules: QuotaRules) -> dict[str, str]:
    """The rules as used, in Chinese and English (shown with every position)."""
    r, w, n = percent(rules.ratio), rules.severe_weight, rules.exempt_max_staff
    wage = money(rules.average_wage)
    t, hi, lo = (
        percent(rules.reduced_threshold),
        percent(rules.share_at_or_above_threshold),
        percent(rules.share_below_threshold),
    )
    severe_zh = (
        f"持一、二级残疾人证的每人按 {w} 人计算，其他残疾职工每人按 1 人计算。"
        if w != 1
        else "每名残疾职工按 1 人计算。"
    )
    severe_en = (
        f"Each holder of a grade 1 or 2 certificate counts as {w}; other disabled staff "
        "count as 1 each."
        if w != 1
        else "Each disabled member of staff counts as 1."
    )
    return {
        "zh": (
            f"应安排残疾人数 = 在职职工人数 × 安排比例 {r}。{severe_zh}"
            "差额 = 应安排人数 − 已安排人数（不足 0 按 0 计），保留小数，不取整。"
            f"残疾人就业保障金 = 差额 × 当地职工年平均工资 {wage} 元。"
            f"已安排比例达到 {t} 的，按 {hi} 缴纳；低于 {t} 的，按 {lo} 缴纳。"
            f"在职职工 {n} 人（含）以下的企业免缴（机关、事业单位和社会组织不免）。"
            "金额四舍五入到分。"
            "通过本服务录用的人员，在岗满 90 天并记录后计入。"
        ),
        "en": (
            f"Disabled staff required = staff × the ratio of {r}. {severe_en} "
            "Shortfall = required − counted (never below 0), kept as a fraction, "
            "not rounded. "
            f"Employment security fund = shortfall × the local average yearly wage of "
            f"{wage} yuan. An employer whose own ratio reaches {t} pays {hi} of it; "
            f"below {t}, {lo}. Enterprises with {n} staff or fewer are exempt (government "
            "bodies, public institutions and social organisations are not). "
            "Amounts are rounded to the fen (0.01 yuan). People hired through this service "
            "count once they are recorded as still employed after 90 days."
        ),
    }


def working(
    position: QuotaPosition, figures: QuotaFigures, rules: QuotaRules
) -> dict[str, list[str]]:
    """This employer's arithmetic, step by step, in Chinese and English."""
    p, w = position, rules.severe_weight
    zh = [
        f"应安排：{p.staff} × {percent(rules.ratio)} = {number(p.required)} 人",
        f"已安排（折算）：{figures.severe} × {w} + {figures.other} = {p.counted} 人",
        f"差额：{number(p.required)} − {p.counted} → {number(p.shortfall)} 人",
    ]
    en = [
        f"Required: {p.staff} × {percent(rules.ratio)} = {number(p.required)} people",
        f"Counted: {figures.severe} × {w} + {figures.other} = {p.counted}",
        f"Shortfall: {number(p.required)} − {p.counted} → {number(p.shortfall)} people",
    ]
    if p.status == "exempt":
        zh.append(f"在职职工 {p.staff} 人，不超过 {rules.exempt_max_staff} 人：免缴保障金。")
        en.append(f"{p.staff} staff, not more than {rules.exempt_max_staff}: no fund is due.")
        return {"zh": zh, "en": en}
    if figures.public_body and p.staff <= rules.exempt_max_staff:
        zh.append("机关、事业单位或社会组织（按统一社会信用代码）：小微企业免缴不适用。")
        en.append(
            "A government body, public institution or social organisation (by its unified "
            "social credit code): the small-enterprise exemption does not apply."
        )
    if p.status == "meets":
        zh.append("已达到安排比例：不需缴纳保障金。")
        en.append("The ratio is met: no fund is due.")
    else:
        wage = money(rules.average_wage)
        before = money(p.fund_before_reduction)
        reached = p.reached_threshold
        zh.append(f"保障金（减免前）：{number(p.shortfall)} × {wage} = {before} 元")
        en.append(f"Fund before reductions: {number(p.shortfall)} × {wage} = {before} yuan")
        tier_zh = "达到" if reached else "低于"
        tier_en = "reaches" if reached else "is below"
        zh.append(
            f"已安排比例 {percent(p.own_ratio)}，{tier_zh} {percent(rules.reduced_threshold)}："
            f"按 {percent(p.pay_share)} 缴纳，"
            f"{before} × {percent(p.pay_share)} = {money(p.fund)} 元"
        )
        en.append(
            f"Own ratio {percent(p.own_ratio)} {tier_en} {percent(rules.reduced_threshold)}: "
            f"pay {percent(p.pay_share)}, {before} × {percent(p.pay_share)} = "
            f"{money(p.fund)} yuan"
        )
    return {"zh": zh, "en": en}
