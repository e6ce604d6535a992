"""The quota rules (api.quota.quota_position) against examples worked out by hand.

Defaults unless a test says otherwise: ratio 1.5%, a grade 1–2 holder counts as 2, average
wage 120,000 yuan a year, exempt at 30 staff or fewer, own ratio ≥ 1% pays 50%, below 90%,
money rounded half up to the fen at each amount shown.
"""

from dataclasses import replace
from decimal import Decimal

import pytest

from api.quota import QuotaFigures, QuotaRules, quota_position, rule_text, working
from api.settings import Settings
from api.uscc import check_char, is_public_body
from tests.conftest import TEST_SECRET

RULES = QuotaRules()


def test_the_defaults_are_the_settings_defaults() -> None:
    from api.services.quota import rules_from

    settings = Settings(environment="test", secret_key=TEST_SECRET)  # type: ignore[arg-type]
    assert rules_from(settings) == RULES
    assert RULES.ratio == Decimal("0.015") and RULES.severe_weight == 2
    assert RULES.exempt_max_staff == 30


def test_fractional_shortfall_at_or_above_one_percent_pays_half() -> None:
    # 150 staff × 1.5% = 2.25 people required; 2 grade 3–4 staff count 2.
    # shortfall 2.25 − 2 = 0.25 (a fraction, not rounded up to 1)
    # fund before reductions 0.25 × 120,000 = 30,000.00
    # own ratio 2 / 150 = 1.33% ≥ 1% → 50%: 30,000.00 × 0.5 = 15,000.00
    p = quota_position(QuotaFigures(staff=150, severe=0, other=2), RULES)
    assert p.required == Decimal("2.25") and p.counted == 2
    assert p.shortfall == Decimal("0.25")
    assert p.own_ratio == Decimal("0.0133")
    assert p.status == "short" and p.reached_threshold
    assert p.fund_before_reduction == Decimal("30000.00")
    assert p.pay_share == Decimal("0.5")
    assert p.fund == Decimal("15000.00")


def test_grade_1_2_counts_twice_and_below_one_percent_pays_ninety_percent() -> None:
    # 1000 staff × 1.5% = 15 required
    # 2 grade 1–2 holders × 2 = 4, plus 3 grade 3–4 = 3 → counted 7 (5 people)
    # shortfall 15 − 7 = 8; 8 × 120,000 = 960,000.00
    # own ratio 7 / 1000 = 0.7% < 1% → 90%: 960,000.00 × 0.9 = 864,000.00
    p = quota_position(QuotaFigures(staff=1000, severe=2, other=3), RULES)
    assert (p.disabled_people, p.counted) == (5, 7)
    assert p.shortfall == Decimal("8")
    assert not p.reached_threshold and p.pay_share == Decimal("0.9")
    assert p.fund_before_reduction == Decimal("960000.00")
    assert p.fund == Decimal("864000.00")


def test_exactly_at_the_ratio_costs_nothing() -> None:
    # 200 × 1.5% = 3 required; 1 grade 1–2 (counts 2) + 1 grade 3–4 = 3 → shortfall 0
    p = quota_position(QuotaFigures(staff=200, severe=1, other=1), RULES)
    assert p.required == Decimal("3") and p.counted == 3
    assert p.shortfall == 0 and p.status == "meets"
    assert p.fund_before_reduction == Decimal("0.00") and p.fund == Decimal("0.00")
    assert p.own_ratio == Decimal("0.0150")


def test_one_counted_person_short_of_the_ratio() -> None:
    # 200 × 1.5% = 3 required; 1 grade 1–2 alone counts 2 → shortfall 1
    # own ratio 2 / 200 = 1% exactly: reaches the threshold → 50%
    # 1 × 120,000 = 120,000.00 × 0.5 = 60,000.00
    p = quota_position(QuotaFigures(staff=200, severe=1, other=0), RULES)
    assert p.shortfall == Decimal("1") and p.reached_threshold
    assert p.fund == Decimal("60000.00")


def test_more_than_the_ratio_earns_no_credit() -> None:
    # 100 × 1.5% = 1.5 required; 3 grade 1–2 count 6 → shortfall max(0, −4.5) = 0
    p = quota_position(QuotaFigures(staff=100, severe=3, other=0), RULES)
    assert p.shortfall == 0 and p.fund == 0 and p.status == "meets"
    assert p.own_ratio == Decimal("0.06")


def test_exemption_threshold_thirty_is_exempt_thirty_one_pays() -> None:
    # 30 staff: 30 × 1.5% = 0.45 short, but 30 ≤ 30 → exempt, nothing due (shortfall shown)
    p30 = quota_position(QuotaFigures(staff=30, severe=0, other=0), RULES)
    assert p30.status == "exempt" and p30.shortfall == Decimal("0.45")
    assert p30.fund == 0 and p30.fund_before_reduction == 0 and p30.pay_share == 0
    # 31 staff: 31 × 1.5% = 0.465; own ratio 0 < 1% → 90%
    # 0.465 × 120,000 = 55,800.00; × 0.9 = 50,220.00
    p31 = quota_position(QuotaFigures(staff=31, severe=0, other=0), RULES)
    assert p31.status == "short" and p31.shortfall == Decimal("0.465")
    assert p31.fund_before_reduction == Decimal("55800.00")
    assert p31.fund == Decimal("50220.00")
    # The threshold is a setting: at 31 the same employer is exempt.
    wider = replace(RULES, exempt_max_staff=31)
    assert quota_position(QuotaFigures(staff=31, severe=0, other=0), wider).status == "exempt"


def test_only_enterprises_have_the_small_employer_exemption() -> None:
    # A public institution with 20 staff: 20 × 1.5% = 0.3 short; not exempt: 0 < 1% → 90%
    # 0.3 × 120,000 = 36,000.00; × 0.9 = 32,400.00
    figures = QuotaFigures(staff=20, severe=0, other=0, public_body=True)
    p = quota_position(figures, RULES)
    assert p.status == "short" and p.fund == Decimal("32400.00")
    steps = working(p, figures, RULES)
    assert "事业单位" in steps["zh"][3] and "public institution" in steps["en"][3]
    assert steps["en"][-1].endswith("= 32,400.00 yuan")
    assert quota_position(replace(figures, public_body=False), RULES).status == "exempt"
    # With enough disabled staff it meets the ratio like anyone else.
    assert quota_position(replace(figures, other=1), RULES).status == "meets"


def test_credit_codes_say_which_employers_are_public_bodies() -> None:
    def code(prefix: str) -> str:
        body = (prefix + "0" * 17)[:17]
        return body + check_char(body)

    for prefix in ("11", "12", "13", "51", "52", "53"):  # 机关, 事业单位, 群团, 社会组织
        assert is_public_body(code(prefix)), prefix
    for prefix in ("91", "92", "93", "Y1"):  # 企业, 个体工商户, 合作社, other
        assert not is_public_body(code(prefix)), prefix


def test_no_staff_is_exempt_and_divides_by_nothing() -> None:
    p = quota_position(QuotaFigures(staff=0, severe=0, other=0), RULES)
    assert p.status == "exempt" and p.required == 0 and p.own_ratio == 0


def test_the_reduction_tier_compares_exactly_not_the_rounded_ratio() -> None:
    # 101 staff, 1 counted: own ratio 1 / 101 = 0.990099…% (shown 0.99%) < 1% → 90%
    # 101 × 1.5% = 1.515; shortfall 0.515; 0.515 × 120,000 = 61,800.00; × 0.9 = 55,620.00
    p = quota_position(QuotaFigures(staff=101, severe=0, other=1), RULES)
    assert p.own_ratio == Decimal("0.0099") and not p.reached_threshold
    assert p.fund == Decimal("55620.00")
    # 300 staff, 3 counted: 3 ≥ 300 × 1% = 3 → exactly at the threshold → 50%
    # 300 × 1.5% = 4.5; shortfall 1.5; 1.5 × 120,000 = 180,000.00; × 0.5 = 90,000.00
    p = quota_position(QuotaFigures(staff=300, severe=0, other=3), RULES)
    assert p.reached_threshold and p.fund == Decimal("90000.00")


def test_beijing_ratio() -> None:
    # Beijing 1.7%: 100 × 1.7% = 1.7 required; 1 counted; shortfall 0.7
    # own ratio 1% → 50%; 0.7 × 120,000 = 84,000.00; × 0.5 = 42,000.00
    p = quota_position(
        QuotaFigures(staff=100, severe=0, other=1), replace(RULES, ratio=Decimal("0.017"))
    )
    assert p.shortfall == Decimal("0.7") and p.fund == Decimal("42000.00")


def test_double_counting_switched_off() -> None:
    # weight 1: 1 grade 1–2 + 1 grade 3–4 = 2 counted of 3 required (200 × 1.5%)
    # shortfall 1; own ratio 1% → 50%; 120,000.00 × 0.5 = 60,000.00
    p = quota_position(QuotaFigures(staff=200, severe=1, other=1), replace(RULES, severe_weight=1))
    assert p.counted == 2 and p.fund == Decimal("60000.00")


def test_no_reductions_and_rounding_half_up_to_the_fen() -> None:
    # Reductions off (both shares 100%), wage 100.02 a year (to make fen visible):
    # 150 × 1.5% = 2.25; 2 counted; shortfall 0.25; 0.25 × 100.02 = 25.005 → 25.01 (half up)
    rules = replace(
        RULES,
        average_wage=Decimal("100.02"),
        share_at_or_above_threshold=Decimal("1"),
        share_below_threshold=Decimal("1"),
    )
    p = quota_position(QuotaFigures(staff=150, severe=0, other=2), rules)
    assert p.fund_before_reduction == Decimal("25.01") and p.fund == Decimal("25.01")
    # With the 50% tier the shown amount is halved: 25.01 × 0.5 = 12.505 → 12.51
    p = quota_position(
        QuotaFigures(staff=150, severe=0, other=2),
        replace(rules, share_at_or_above_threshold=Decimal("0.5")),
    )
    assert p.fund == Decimal("12.51")


def test_odd_wage_rounds_each_amount_shown() -> None:
    # 101 staff, 1 counted, wage 98,765.43: shortfall 0.515
    # 0.515 × 98,765.43 = 50,864.19645 → 50,864.20
    # own ratio < 1% → 90%: 50,864.20 × 0.9 = 45,777.78
    p = quota_position(
        QuotaFigures(staff=101, severe=0, other=1), replace(RULES, average_wage=Decimal("98765.43"))
    )
    assert p.fund_before_reduction == Decimal("50864.20")
    assert p.fund == Decimal("45777.78")


def test_negative_figures_are_refused() -> None:
    with pytest.raises(ValueError):
        quota_position(QuotaFigures(staff=10, severe=-1, other=0), RULES)


def test_rule_text_and_working_say_what_was_used_in_both_languages() -> None:
    text = rule_text(replace(RULES, ratio=Decimal("0.017")))
    assert "1.7%" in text["zh"] and "1.7%" in text["en"]
    assert "按 2 人计算" in text["zh"] and "counts as 2" in text["en"]
    assert "30 人（含）以下的企业" in text["zh"]
    assert "Enterprises with 30 staff or fewer" in text["en"]
    assert "120,000.00" in text["zh"] and "50%" in text["en"] and "90%" in text["en"]
    figures = QuotaFigures(staff=150, severe=0, other=2)
    steps = working(quota_position(figures, RULES), figures, RULES)
    assert steps["zh"][0] == "应安排：150 × 1.5% = 2.25 人"
    assert steps["en"][2] == "Shortfall: 2.25 − 2 → 0.25 people"
    assert (
        steps["en"][-1] == "Own ratio 1.33% reaches 1%: pay 50%, 30,000.00 × 50% = 15,000.00 yuan"
    )
    assert (
        "免缴"
        in working(quota_position(QuotaFigures(30, 0, 0), RULES), QuotaFigures(30, 0, 0), RULES)[
            "zh"
        ][-1]
    )


def test_settings_refuse_a_threshold_above_the_ratio() -> None:
    with pytest.raises(ValueError):
        Settings(
            environment="test",
            secret_key=TEST_SECRET,  # type: ignore[arg-type]
            quota_ratio=Decimal("0.015"),
            quota_reduced_threshold=Decimal("0.02"),
        )
