"""Photos of accessibility findings: checked by content, bounded in size, re-encoded without
any metadata (EXIF, GPS, XMP, ICC, comments), stored under random names outside any static
folder, read back only through the service."""

import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from api.errors import InvalidInput

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
STORED_TYPE = "image/jpeg"
NAME_LENGTH = 32  # hex characters of the random file name


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int
    content_type: str = STORED_TYPE


def read_bounded(stream: BinaryIO, max_bytes: int) -> bytes:
    """At most max_bytes of the upload; an input error if there is more (never reads more
    than one byte past the limit)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInput(f"the photo is larger than {max_bytes} bytes", field="file")
    if not data:
        raise InvalidInput("the photo is empty", field="file")
    return data


def clean(data: bytes, *, max_pixels: int, max_side: int) -> CleanPhoto:
    """Decode the image (whatever its name or declared type says), refuse what is not a
    JPEG, PNG or WebP photo or is too large, and re-encode the pixels alone as JPEG."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in ACCEPTED_FORMATS:
                    raise InvalidInput("the file is not a JPEG, PNG or WebP photo", field="file")
                if width * height > max_pixels:
                    raise InvalidInput(f"the photo has more than {max_pixels} pixels", field="file")
                probe.verify()  # a truncated or corrupt file fails here
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)  # keep the orientation, drop the tag
                rgb = _flatten(upright)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("the file is not a JPEG, PNG or WebP photo", field="file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("the photo could not be read", field="file") from exc
    rgb.thumbnail((max_side, max_side))
    # A new image holding only the pixels: no info, EXIF, ICC profile or comments carry over.
    bare = Image.new("RGB", rgb.size)
    bare.paste(rgb)
    out = io.BytesIO()
    bare.save(out, format="JPEG", quality=85, optimize=True)
    return CleanPhoto(data=out.getvalue(), width=bare.width, height=bare.height)


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def new_name() -> str:
    return secrets.token_hex(NAME_LENGTH // 2) + ".jpg"


def path_of(folder: Path, name: str) -> Path:
    """The file of a stored name; refuses anything but a name this module made."""
    stem = name.removesuffix(".jpg")
    if len(stem) != NAME_LENGTH or any(c not in "0123456789abcdef" for c in stem):
        raise ValueError("not a stored photo name")
    return folder / name


def store(folder: Path, name: str, data: bytes) -> None:
    """Write the file atomically, readable by this service's user only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path_of(folder, name)
    tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load(folder: Path, name: str) -> bytes:
    return path_of(folder, name).read_bytes()


def remove(folder: Path, name: str) -> None:
    path_of(folder, name).unlink(missing_ok=True)


def stored_names(folder: Path) -> dict[str, float]:
    """Stored photo files with their modification times (for the orphan sweep)."""
    if not folder.is_dir():
        return {}
    out: dict[str, float] = {}
    for entry in folder.iterdir():
        try:
            path_of(folder, entry.name)
        except ValueError:
            continue
        out[entry.name] = entry.stat().st_mtime
    return out
