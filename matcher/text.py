"""Text normalisation and language detection shared by the signals."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

TextLanguage = Literal["zh", "en", "unknown"]
LanguagePair = Literal["zh-zh", "en-en", "mixed"]

# CJK ideographs (+ extension A, compatibility) and kana: the scripts that read as "zh" here.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]")
_LATIN = re.compile(r"[A-Za-z]")

# A CJK character carries about as much as a short Latin word, so a modest share already
# means the text is mainly Chinese ("Java开发工程师" has 5 of 9 letters CJK).
ZH_SHARE = 0.3


def normalise(text: str) -> str:
    """NFKC (full width to half width), lower case, single spaces, stripped."""
    # str.split() and the regex's \s both split on what str.isspace() calls space.
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def cjk_share(text: str) -> float:
    """Share in [0, 1] of CJK characters among CJK and Latin letters; 0 when there are none."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    total = cjk + latin
    return cjk / total if total else 0.0


def detect_language(text: str) -> TextLanguage:
    """``zh`` when CJK letters make up at least 30%, ``en`` for Latin text, else ``unknown``."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return "unknown"
    return "zh" if cjk / (cjk + latin) >= ZH_SHARE else "en"


def language_pair(a: TextLanguage, b: TextLanguage) -> LanguagePair:
    """``zh-zh`` or ``en-en`` when both sides agree, else ``mixed`` (unknown counts as mixed)."""
    if a == b == "zh":
        return "zh-zh"
    if a == b == "en":
        return "en-en"
    return "mixed"
