"""Encryption of sensitive fields at rest (Fernet: AES-128-CBC + HMAC-SHA256, from the
`cryptography` package), with key rotation through MultiFernet."""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.settings import Settings


class DataKeyError(RuntimeError):
    """The data keys in the settings cannot decrypt stored data, or are malformed."""


def _derived_key(secret: str) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"jobmatch-data-key",
        info=b"jobmatch sensitive fields v1",
    )
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise DataKeyError("JOBMATCH_DATA_KEYS holds a key that is not a Fernet key") from exc


def data_cipher(settings: Settings) -> MultiFernet:
    """The cipher for sensitive fields: the first key encrypts, every key decrypts."""
    raw = settings.data_keys.get_secret_value()
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if not keys:
        keys = (_derived_key(settings.secret_key.get_secret_value()).decode(),)
    return _cipher(keys)


def seal(settings: Settings, plaintext: str) -> str:
    """Encrypt text for storage."""
    return data_cipher(settings).encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(settings: Settings, token: str) -> str:
    """Decrypt stored text; DataKeyError names the setting when no key fits."""
    try:
        return data_cipher(settings).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DataKeyError("no key in JOBMATCH_DATA_KEYS decrypts this record") from exc


def reseal(settings: Settings, token: str) -> str:
    """Re-encrypt stored text with the first (newest) key."""
    try:
        return data_cipher(settings).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DataKeyError("no key in JOBMATCH_DATA_KEYS decrypts this record") from exc


def new_key() -> str:
    """A fresh random data key."""
    return Fernet.generate_key().decode("ascii")
