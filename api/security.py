"""Password hashing (argon2) and session tokens (JWT naming a server-side session)."""

import contextlib
import functools
import os
import secrets
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with m=19 MiB, t=2, p=1: one of the equivalent settings the OWASP Password Storage
# Cheat Sheet recommends for argon2id (m=19456 KiB, t=2, p=1), within RFC 9106's argon2id
# (section 4 lets t and m be tuned to the hardware). argon2-cffi's default (RFC 9106's
# "second recommended option": m=64 MiB, t=3, p=4) costs ≈ 140 ms of CPU per login on the
# service's 2 cores, ≈ 8 times this. Hashes made with other parameters still verify (the
# parameters are stored in each hash) and are replaced at the next login (needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
ALGORITHM = "HS256"
# A hash of a random password, verified against when the account does not exist, so a
# missing account takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# Hashing runs on threads of its own, below the priority of the threads serving requests
# (nice 10, on Linux, where a thread's priority is its own): a login's ≈ 25 ms of CPU then
# waits while the machine's cores have reads to serve, instead of taking a core from them.
# Under load that moved the reads' 99th percentile; a login waits a little longer instead.
HASHING_NICE = 10
T = TypeVar("T")


def _lower_priority() -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


@functools.cache
def _hashing_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=os.cpu_count() or 1,
        thread_name_prefix="password-hashing",
        initializer=_lower_priority,
    )


def _on_hashing_thread(work: Callable[[], T]) -> T:
    return _hashing_threads().submit(work).result()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _on_hashing_thread(lambda: _hasher.hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when password matches; constant work whether or not the account exists."""

    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return False

    return _on_hashing_thread(verify) and bool(password_hash)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return False


def new_session_id() -> str:
    """A random, unguessable session id."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenClaims:
    account_id: int
    session_id: str
    expires_at: datetime | None = None  # its `exp`, as read back from a token


def encode_token(
    claims: TokenClaims, *, secret: str, audience: str, now: datetime, ttl: timedelta
) -> str:
    """A signed JWT naming the account and its server-side session."""
    payload = {
        "sub": str(claims.account_id),
        "sid": claims.session_id,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(
    token: str, *, secret: str, audience: str, previous: tuple[str, ...] = ()
) -> TokenClaims | None:
    """The claims of a valid token, or None (bad signature, expired, wrong audience, alg).

    Tokens signed with a previous key (during a key rotation) are still accepted.
    """
    for key in (secret, *previous):
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                options={"require": ["exp", "sub", "sid", "aud"]},
            )
            return TokenClaims(
                account_id=int(payload["sub"]),
                session_id=str(payload["sid"]),
                expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            )
        except jwt.InvalidSignatureError:
            continue
        except (jwt.PyJWTError, ValueError, KeyError):
            return None
    return None


def password_problem(password: str, *, user_inputs: list[str]) -> str | None:
    """Why a new password is refused (too common, guessable, or too long), or None."""
    if len(password) > 128:
        return "at most 128 characters"
    from zxcvbn import zxcvbn

    # zxcvbn knows the most common breached passwords and the user's own name and email.
    result = zxcvbn(password[:100], user_inputs=user_inputs)
    if result["score"] < 2:
        return "this password is too common or too easy to guess; try a longer phrase"
    return None
