"""Plain data in and out of the matcher: frozen dataclasses, no behaviour beyond validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
Availability = Literal["available", "arrangeable"]
WorkMode = Literal["on_site", "hybrid", "remote"]
Schedule = Literal["full_time", "part_time", "flexible", "any"]
Language = Literal["zh", "en"]

WORK_MODES: frozenset[str] = frozenset({"on_site", "hybrid", "remote"})
SCHEDULES: frozenset[str] = frozenset({"full_time", "part_time", "flexible", "any"})


@dataclass(frozen=True, slots=True)
class Need:
    """A seeker's accommodation need: a vocabulary code, essential or preferred."""

    code: str
    essential: bool = False


@dataclass(frozen=True, slots=True)
class Offer:
    """An accommodation a posting offers: available now or can be arranged."""

    code: str
    availability: Availability = "available"


@dataclass(frozen=True, slots=True)
class SeekerDoc:
    """A seeker's profile as the matcher sees it (no identity, no disability category)."""

    id: str
    text: str = ""
    desired_roles: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    work_modes: AbstractSet[str] = frozenset({"on_site", "hybrid", "remote"})
    schedule: Schedule = "any"
    lat: float | None = None
    lon: float | None = None
    street_code: str | None = None
    centre_code: str | None = None
    commute_limit_km: float | None = None
    expected_wage: int | None = None
    language: Language = "zh"
    # The stored query encoding of this profile's text, (dim,); encoded on demand when None.
    embedding: npt.NDArray[np.float32] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, eq=False)
class PostingDoc:
    """A posting as the matcher sees it; ``embedding`` is an optional precomputed (dim,) vector."""

    id: str
    title: str = ""
    text: str = ""
    required_skills: list[str] = field(default_factory=list)
    optional_skills: list[str] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    work_mode: WorkMode = "on_site"
    schedule: Schedule = "any"
    lat: float | None = None
    lon: float | None = None
    street_code: str | None = None
    centre_code: str | None = None
    wage_min: int | None = None
    wage_max: int | None = None
    status: str = "open"  # only "open" can match
    expires_at: datetime | None = None
    posted_at: datetime | None = None
    embedding: npt.NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a result matched; ``text`` is plain language in ``language`` (the reader's).

    ``text`` is written from the other fields (and ``labels``, the names of accommodation
    codes) when it is first read, then kept: ranking builds an explanation for every match
    it returns, and most are never shown.
    """

    matched_skills: list[str]
    missing_skills: list[str]
    needs_met: list[str]
    needs_arrangeable: list[str]
    needs_unmet: list[str]
    distance_km: float | None
    top_signal: str
    language: Language = "zh"
    for_employer: bool = False
    labels: Mapping[str, Mapping[str, str]] | None = field(default=None, compare=False, repr=False)
    _text: str | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def text(self) -> str:
        if self._text is None:
            from matcher.explain import explanation_text  # explain imports this module

            text = explanation_text(
                self.language,
                self.matched_skills,
                self.missing_skills,
                self.needs_met,
                self.needs_arrangeable,
                self.needs_unmet,
                self.distance_km,
                self.top_signal,
                self.labels,
                self.for_employer,
            )
            object.__setattr__(self, "_text", text)  # a cache, not a change of value
            return text
        return self._text


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked result: ``score`` in [0, 1]; ``signals`` each in [0, 1]; shares sum to 1."""

    id: str
    score: float
    signals: dict[str, float]
    contributions: dict[str, float]
    explanation: Explanation


def positional_maker(cls: type[T]) -> Callable[..., T]:
    """A constructor of the frozen, slotted dataclass ``cls`` taking its init fields in order,
    for hot loops that build many (a batch ranking's matches): it sets each slot through the
    slot's own descriptor instead of the generated ``__init__``'s ``object.__setattr__`` per
    field (0.9 µs instead of 2.2 µs for an ``Explanation``). Fields left out of ``__init__``
    take their defaults; there is no validation to skip (these types have none)."""
    init = [f for f in fields(cls) if f.init]  # type: ignore[arg-type]
    rest = [f for f in fields(cls) if not f.init]  # type: ignore[arg-type]
    args = [f"a{i}" for i in range(len(init))]
    body = ["    o = new(cls)"]
    body += [f"    set_{f.name}(o, {a})" for f, a in zip(init, args, strict=True)]
    body += [f"    set_{f.name}(o, default_{f.name})" for f in rest]
    source = f"def make({', '.join(args)}):\n" + "\n".join([*body, "    return o"]) + "\n"
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for f in init + rest:
        scope[f"set_{f.name}"] = getattr(cls, f.name).__set__
    for f in rest:
        scope[f"default_{f.name}"] = f.default
    exec(source, scope)  # noqa: S102 - source built above from the class's own field names
    maker: Callable[..., T] = scope["make"]
    return maker
