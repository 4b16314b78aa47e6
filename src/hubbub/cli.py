"""Operator commands: `flask --app hubbub users deactivate NAME` and `... users activate NAME`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from hubbub.services import accounts
from hubbub.services.errors import ServiceError

users = AppGroup("users", help="Manage user accounts.")


@users.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Keep USERNAME out: ends their sessions, revokes their tokens, closes their streams."""
    _set_active(username, active=False)
    click.echo(f"{username} is deactivated; their sessions and tokens are gone.")


@users.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Let USERNAME log in again."""
    _set_active(username, active=True)
    click.echo(f"{username} can log in again.")


def _set_active(username: str, active: bool) -> None:
    try:
        accounts.set_active(username, active)
    except ServiceError as error:
        raise click.ClickException(error.message) from error


def register(app: Flask) -> None:
    app.cli.add_command(users)
