"""Shared schema parts: strict input, pages."""

from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from sqlmodel import SQLModel

T = TypeVar("T")


def _reject_nul(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain NUL characters")
    elif isinstance(value, list | tuple | set):
        for item in value:
            _reject_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key)
            _reject_nul(item)
    return value


class StrictInput(SQLModel):
    """Base of every request body: unknown fields and NUL characters are refused."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


def clean_list(values: list[str], *, max_items: int = 100, max_len: int = 100) -> list[str]:
    """Trim, drop empties and duplicates (keeping order); bound the sizes."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in values:
        item = raw.strip()
        if not item:
            continue
        if len(item) > max_len:
            raise ValueError(f"an item is longer than {max_len} characters")
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    if len(out) > max_items:
        raise ValueError(f"at most {max_items} items")
    return out


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[Any], total: int, page: PageParams) -> Self:
        """The page of `items` out of `total`, at the position the request asked for."""
        return cls(items=items, total=total, limit=page.limit, offset=page.offset)
