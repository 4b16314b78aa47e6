"""The JSON shapes of API answers, in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hubbub.models import ApiToken, User


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def user_json(user: User, *, private: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "created_at": timestamp(user.created_at),
    }
    if private:
        data["email"] = user.email
    return data


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": timestamp(token.created_at),
        "last_used_at": timestamp(token.last_used_at),
    }
