"""`papertide users ...`: accounts and API tokens."""

from __future__ import annotations

import sys

import typer

from papertide.cli.common import EXIT_NOTHING_READ, engine, fail, out
from papertide.security import WeakPassword, hash_password, new_token
from papertide.store import accounts

users_app = typer.Typer(help="Accounts: create users and API tokens.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    admin: bool = typer.Option(False, "--admin", help="Give the admin role."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Create a user (the first admin is created this way)."""
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        with engine(ctx).begin() as conn:
            accounts.create_user(
                conn, username, hash_password(password), "admin" if admin else "user"
            )
    except (WeakPassword, accounts.AccountError) as exc:
        fail(str(exc))
    out.print(f"created {'admin' if admin else 'user'} {username}", highlight=False)


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    name: str = typer.Option("cli", help="A label for the token."),
) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    token, hashed = new_token()
    with engine(ctx).begin() as conn:
        user = accounts.user_by_name(conn, username)
        if user is None:
            fail(f"no user {username!r}", EXIT_NOTHING_READ)
            return
        accounts.create_api_token(conn, hashed, user["id"], name)
    sys.stdout.write(token + "\n")


@users_app.command("hide-votes")
def users_hide_votes(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    undo: bool = typer.Option(False, "--undo", help="Count the user's votes again."),
) -> None:
    """Stop counting a user's votes (admin moderation), or count them again with --undo."""
    try:
        with engine(ctx).begin() as conn:
            accounts.set_votes_hidden(conn, username, not undo)
    except accounts.AccountError as exc:
        fail(str(exc), EXIT_NOTHING_READ)
    out.print(f"votes of {username} {'count again' if undo else 'hidden'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
