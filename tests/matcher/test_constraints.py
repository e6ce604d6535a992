from datetime import timedelta

from matcher_factories import NOW, posting, seeker

from matcher import Need, Offer, is_feasible, violations


def test_open_posting_with_no_needs_is_feasible() -> None:
    assert violations(seeker(), posting(), NOW) == []


def test_essential_need_must_be_offered_or_arrangeable() -> None:
    s = seeker(needs=[Need("screen_reader", essential=True)])
    assert violations(s, posting(), NOW) == ["essential_needs"]
    assert is_feasible(s, posting(offers=[Offer("screen_reader", "arrangeable")]), NOW)
    preferred = seeker(needs=[Need("screen_reader", essential=False)])
    assert is_feasible(preferred, posting(), NOW)


def test_closed_or_expired_postings_fail() -> None:
    assert violations(seeker(), posting(status="closed"), NOW) == ["closed"]
    expired = posting(expires_at=NOW - timedelta(seconds=1))
    assert violations(seeker(), expired, NOW) == ["closed"]
    assert is_feasible(seeker(), posting(expires_at=NOW + timedelta(days=1)), NOW)


def test_work_mode_and_schedule() -> None:
    assert violations(seeker(work_modes={"remote"}), posting(), NOW) == ["work_mode"]
    assert is_feasible(seeker(work_modes={"remote"}), posting(work_mode="remote"), NOW)
    part = seeker(schedule="part_time")
    assert violations(part, posting(schedule="full_time"), NOW) == ["schedule"]
    assert is_feasible(part, posting(schedule="flexible"), NOW)
    assert is_feasible(seeker(schedule="any"), posting(schedule="full_time"), NOW)


def test_commute_limit_applies_when_both_places_are_known() -> None:
    s = seeker(lat=31.0, lon=121.0, commute_limit_km=5)
    assert violations(s, posting(lat=31.2, lon=121.0), NOW) == ["distance"]
    assert is_feasible(s, posting(lat=31.01, lon=121.0), NOW)
    assert is_feasible(s, posting(), NOW)
    assert is_feasible(s, posting(lat=40.0, lon=116.0, work_mode="remote"), NOW)
