"""Instant-approval (秒批) rules: the checks, their parameters, and evaluation on facts.

Rules are rows of `approval_rule` (admins change them without a deploy); each row's `code`
names one check here. A check looks only at `Facts`, a snapshot of what was true when the
referral was submitted, so a dry run can replay past referrals under other rules.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.errors import InvalidInput

ProfileField = Literal[
    "full_name",
    "phone",
    "skills",
    "headline",
    "experience",
    "education",
    "desired_roles",
    "location_text",
]
PROFILE_FIELDS: tuple[str, ...] = ProfileField.__args__  # type: ignore[attr-defined]
DEFAULT_PROFILE_FIELDS: tuple[ProfileField, ...] = ("full_name", "phone", "skills")


@dataclass(frozen=True)
class Facts:
    """What the rules look at; nothing sensitive (counts, flags and field names only)."""

    needs_met: int = 0  # essential needs the posting offers now
    needs_arrangeable: int = 0  # essential needs the posting can arrange
    needs_unmet: int = 0  # essential needs the posting does not offer
    # essential needs the posting claims but nobody verified on site, for a seeker who asked
    # for verified features only (counted here, not in met or arrangeable)
    needs_unverified: int = 0
    employer_verified: bool = False
    consented: bool = False
    profile_filled: list[str] = field(default_factory=list)  # PROFILE_FIELDS that are filled
    posting_open: bool = False  # open and not expired
    open_referrals: int = 0  # the seeker's open referrals, this one included

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Facts":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class RuleSpec:
    """A rule as evaluated: a code, whether it is on, and its parameters."""

    code: str
    enabled: bool
    params: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    code: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(_Params):
    pass


class NeedsParams(_Params):
    allow_arrangeable: bool = True


class ProfileParams(_Params):
    fields: list[ProfileField] = Field(
        default_factory=lambda: list(DEFAULT_PROFILE_FIELDS), max_length=len(PROFILE_FIELDS)
    )


class MaxOpenParams(_Params):
    max: int = Field(default=5, ge=1, le=100)


class MaxArrangeableParams(_Params):
    max: int = Field(default=1, ge=0, le=20)


def _needs(f: Facts, p: NeedsParams) -> tuple[bool, str]:
    missing = f.needs_unmet + (0 if p.allow_arrangeable else f.needs_arrangeable)
    if missing or f.needs_unverified:
        parts = [f"{missing} essential need(s) not met"] if missing else []
        if f.needs_unverified:
            parts.append(f"{f.needs_unverified} claimed but not verified on site")
        return False, "; ".join(parts)
    return True, f"{f.needs_met} met, {f.needs_arrangeable} arrangeable"


def _employer(f: Facts, _p: NoParams) -> tuple[bool, str]:
    return f.employer_verified, "employer verified" if f.employer_verified else "not verified"


def _consent(f: Facts, _p: NoParams) -> tuple[bool, str]:
    return f.consented, "consent given" if f.consented else "no consent"


def _profile(f: Facts, p: ProfileParams) -> tuple[bool, str]:
    missing = [name for name in p.fields if name not in f.profile_filled]
    return not missing, f"missing: {', '.join(missing)}" if missing else "complete"


def _posting(f: Facts, _p: NoParams) -> tuple[bool, str]:
    return f.posting_open, "open" if f.posting_open else "closed or expired"


def _max_open(f: Facts, p: MaxOpenParams) -> tuple[bool, str]:
    return f.open_referrals <= p.max, f"{f.open_referrals} open, at most {p.max}"


def _max_arrangeable(f: Facts, p: MaxArrangeableParams) -> tuple[bool, str]:
    passed = f.needs_arrangeable <= p.max
    return passed, f"{f.needs_arrangeable} to arrange, at most {p.max}"


Check = Callable[[Facts, Any], tuple[bool, str]]
CHECKS: dict[str, tuple[type[_Params], Check]] = {
    "essential_needs_met": (NeedsParams, _needs),
    "employer_verified": (NoParams, _employer),
    "seeker_consented": (NoParams, _consent),
    "profile_complete": (ProfileParams, _profile),
    "posting_open": (NoParams, _posting),
    "max_open_referrals": (MaxOpenParams, _max_open),
    "max_arrangeable_needs": (MaxArrangeableParams, _max_arrangeable),
}
# The plain description a new rule of each check starts with (zh, en); admins may change it.
CHECK_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "essential_needs_met": (
        "求职者的每项必需便利需求，岗位都已提供或可以安排（只认可实地核查过的便利的求职者：须经核查）",
        "Every essential accommodation need of the seeker is offered, available or arrangeable "
        "(verified on site, for a seeker who counts only verified features)",
    ),
    "employer_verified": ("用人单位已通过核验", "The employer has been verified"),
    "seeker_consented": (
        "求职者已同意向该用人单位提供所列信息",
        "The seeker consented to share the listed fields",
    ),
    "profile_complete": (
        "求职者档案已填写完整",
        "The seeker's profile is complete",
    ),
    "posting_open": ("岗位仍在招聘且未过期", "The posting is open and has not expired"),
    "max_open_referrals": (
        "该求职者进行中的推荐不超过 N 个",
        "The seeker has no more than N open referrals",
    ),
    "max_arrangeable_needs": (
        "需要用人单位另行安排的必需便利不超过 N 项",
        "No more than N essential needs must still be arranged by the employer",
    ),
}


def validate_params(code: str, params: dict[str, Any], *, field: str = "params") -> dict[str, Any]:
    """The rule's parameters, checked and with defaults filled; InvalidInput names the field."""
    if code not in CHECKS:
        raise InvalidInput(f"unknown rule {code!r}", field="code", known=sorted(CHECKS))
    model, _check = CHECKS[code]
    try:
        return model.model_validate(params).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(
            f"{field}{'.' + loc if loc else ''}: {first.get('msg', 'invalid')}",
            field=f"{field}.{loc}" if loc else field,
        ) from None


def evaluate(rules: Sequence[RuleSpec], facts: Facts) -> list[Verdict]:
    """The verdict of every enabled rule, in the given order."""
    out: list[Verdict] = []
    for rule in rules:
        if not rule.enabled or rule.code not in CHECKS:
            continue
        model, check = CHECKS[rule.code]
        passed, detail = check(facts, model.model_validate(rule.params))
        out.append(Verdict(code=rule.code, passed=passed, detail=detail))
    return out


def approves(verdicts: Sequence[Verdict]) -> bool:
    """Instant approval: every enabled rule passed."""
    return all(v.passed for v in verdicts)
