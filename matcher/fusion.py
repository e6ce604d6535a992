"""Fusion of the signals into one score in [0, 1], with shares per signal."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from matcher.errors import MatcherError
from matcher.text import LanguagePair

FloatArray = npt.NDArray[np.float32]

SIDE_SIGNALS = ("skills", "needs", "location", "wage", "freshness", "fit")


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Weights of the signals (normalised to sum 1) and the dense share of text relevance.

    Text relevance fuses the dense and lexical channels as ``a * z_dense + (1 - a) * z_lexical``
    (z-scores against the indexed corpus), where ``a`` depends on the language pair, then maps
    it to (0, 1) with a logistic centred at ``text_center`` z. A side signal that is unknown
    for a pair (no skills listed, no wage, ...) hands its weight to text relevance.
    """

    text: float = 0.55
    skills: float = 0.15
    needs: float = 0.12
    location: float = 0.08
    wage: float = 0.04
    freshness: float = 0.03
    fit: float = 0.03
    dense_zh: float = 0.8
    dense_en: float = 0.6
    dense_mixed: float = 0.9
    text_center: float = 2.0
    text_scale: float = 1.0

    def __post_init__(self) -> None:
        values = asdict(self)
        parts = [values[name] for name in ("text", *SIDE_SIGNALS)]
        if any(v < 0 for v in parts) or sum(parts) <= 0:
            raise MatcherError("fusion weights must be >= 0 with a positive sum")
        for name in ("dense_zh", "dense_en", "dense_mixed"):
            if not 0.0 <= values[name] <= 1.0:
                raise MatcherError(f"{name} must lie in [0, 1]")
        if self.text_scale <= 0:
            raise MatcherError("text_scale must be > 0")

    def signal_weights(self) -> dict[str, float]:
        """Weights of ``text`` and the side signals, summing to 1."""
        raw = {
            "text": self.text,
            "skills": self.skills,
            "needs": self.needs,
            "location": self.location,
            "wage": self.wage,
            "freshness": self.freshness,
            "fit": self.fit,
        }
        total = sum(raw.values())
        return {name: w / total for name, w in raw.items()}

    def dense_share(self, pair: LanguagePair) -> float:
        """Share ``a`` in [0, 1] of the dense channel for a language pair."""
        if pair == "zh-zh":
            return self.dense_zh
        if pair == "en-en":
            return self.dense_en
        return self.dense_mixed

    def text_relevance(self, fused_z: FloatArray) -> FloatArray:
        """Logistic map of fused z-scores to (0, 1)."""
        x = (np.asarray(fused_z, dtype=np.float32) - self.text_center) / self.text_scale
        out: FloatArray = (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)
        return out


def zscore(values: FloatArray, mean: float, std: float) -> FloatArray:
    """(values - mean) / std; zeros when the spread is nil."""
    if not math.isfinite(std) or std <= 1e-9:
        return np.zeros_like(values, dtype=np.float32)
    out: FloatArray = ((values - mean) / std).astype(np.float32)
    return out


@dataclass(frozen=True, slots=True)
class Scored:
    """One pair's fused score in [0, 1] and each signal's share of it (shares sum to 1)."""

    score: float
    contributions: dict[str, float]


def combine(
    weights: Mapping[str, float],
    text: float,
    side: Mapping[str, float | None],
    dense_part: float,
) -> Scored:
    """Fuse text relevance and side signals (None = unknown, its weight goes to text).

    ``dense_part`` in [0, 1] is the dense channel's part of text relevance; the rest is
    lexical. Returns the score in [0, 1] and contributions keyed dense, lexical and the
    known side signals.
    """
    text_weight = weights["text"]
    parts: dict[str, float] = {}
    for name in SIDE_SIGNALS:
        value = side.get(name)
        if value is None:
            text_weight += weights[name]
        else:
            parts[name] = weights[name] * value
    text_total = text_weight * text
    parts = {"dense": text_total * dense_part, "lexical": text_total * (1 - dense_part), **parts}
    score = sum(parts.values())
    if score <= 0:
        shares = {name: 0.0 for name in parts}
        shares["dense" if dense_part >= 0.5 else "lexical"] = 1.0
    else:
        shares = {name: v / score for name, v in parts.items()}
    return Scored(score=float(min(1.0, max(0.0, score))), contributions=shares)


def dense_part(share: float, z_dense: float, z_lexical: float) -> float:
    """Dense channel's part in [0, 1] of one pair's text relevance (by positive z evidence)."""
    d = share * max(z_dense, 0.0)
    lex = (1 - share) * max(z_lexical, 0.0)
    if d + lex <= 0:
        return share
    return d / (d + lex)
