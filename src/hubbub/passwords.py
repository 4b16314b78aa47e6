"""Password rules and argon2id hashing."""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords that zxcvbn ships, lower-cased."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def problem_with(password: str) -> str | None:
    """Say what is wrong with a new password, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in common_passwords():
        return "This password is one of the most common ones; choose another."
    return None


def _normalise(password: str) -> str:
    # The same password typed on two keyboards can arrive in two Unicode forms.
    return unicodedata.normalize("NFKC", password)


def hasher() -> PasswordHasher:
    return _hasher(*_params())


@cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )


def hash_password(password: str) -> str:
    return hasher().hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def burn_time(password: str) -> None:
    """Spend what a real check costs, so an unknown login answers as slowly as a known one."""
    verify_password(_dummy_hash(*_params()), password)


def _params() -> tuple[int, int, int]:
    config = current_app.config
    return config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"]


@cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("not a password anyone has")
