"""Password rules and argon2id hashing, including the production cost settings."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import argon2
import pytest
from flask import Flask
from sqlalchemy import select

from hubbub import passwords
from hubbub.config import DEFAULTS
from hubbub.models import User, db
from hubbub.services import accounts
from tests.support import PASSWORD

# The OWASP floor for argon2id: 19 MiB of memory and two passes.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2


def passphrase(length: int) -> str:
    """An uncommon password of exactly `length` characters."""
    return ("tangerine moss under the viaduct " * 40)[:length]


def test_production_settings_store_argon2id_above_the_owasp_floor(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(
        ARGON2_TIME_COST=DEFAULTS["ARGON2_TIME_COST"],
        ARGON2_MEMORY_COST=DEFAULTS["ARGON2_MEMORY_COST"],
        ARGON2_PARALLELISM=DEFAULTS["ARGON2_PARALLELISM"],
    )
    with app.app_context():
        user = accounts.register_user("ana", "ana@example.com", PASSWORD)
        stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
        assert stored is not None
        assert passwords.verify_password(stored, PASSWORD)
    parameters = argon2.extract_parameters(stored)
    assert parameters.type is argon2.Type.ID
    assert parameters.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert parameters.time_cost >= OWASP_MIN_TIME_COST


@pytest.mark.parametrize("length", [0, 1, 11])
def test_problem_with_too_short_password(length: int) -> None:
    assert passwords.problem_with(passphrase(length)) == "Use at least 12 characters."


@pytest.mark.parametrize("length", [12, 13, 127, 128])
def test_problem_with_accepts_lengths_from_12_to_128(length: int) -> None:
    assert passwords.problem_with(passphrase(length)) is None


@pytest.mark.parametrize("length", [129, 1000])
def test_problem_with_too_long_password(length: int) -> None:
    assert passwords.problem_with(passphrase(length)) == "Use at most 128 characters."


def test_problem_with_counts_characters_not_bytes() -> None:
    # Twelve emoji are 48 bytes of UTF-8 but twelve characters.
    assert passwords.problem_with("🦊" * 12) is None
    assert passwords.problem_with("🦊" * 11) == "Use at least 12 characters."
    assert passwords.problem_with("ж" * 128) is None
    assert passwords.problem_with("ж" * 129) == "Use at most 128 characters."


@pytest.mark.parametrize("password", ["qwerty123456", "QwErTy123456", "1qaz2wsx3edc"])
def test_problem_with_common_password(password: str) -> None:
    problem = passwords.problem_with(password)
    assert problem is not None
    assert "common" in problem


def test_hash_and_verify_round_trip(app: Flask) -> None:
    with app.app_context():
        stored = passwords.hash_password(PASSWORD)
        assert passwords.verify_password(stored, PASSWORD)
        assert not passwords.verify_password(stored, PASSWORD + "!")


def test_hashes_of_one_password_are_salted(app: Flask) -> None:
    with app.app_context():
        assert passwords.hash_password(PASSWORD) != passwords.hash_password(PASSWORD)


def test_verify_matches_the_same_text_in_another_unicode_form(app: Flask) -> None:
    composed = unicodedata.normalize("NFC", "café au lait, déjà vu")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    with app.app_context():
        stored = passwords.hash_password(composed)
        assert passwords.verify_password(stored, decomposed)


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$broken"])
def test_verify_against_a_broken_hash_is_false(app: Flask, stored: str) -> None:
    with app.app_context():
        assert passwords.verify_password(stored, PASSWORD) is False
