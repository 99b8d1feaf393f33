"""`papertide users ...`: accounts, API tokens and passwords."""

from __future__ import annotations

import sys

import typer

from papertide.cli.common import AS_JSON, emit_json, engine, fail, out, user_named
from papertide.cli.framework import CommandGroup
from papertide.security import WeakPassword, hash_password, new_token
from papertide.store import accounts

users_app = CommandGroup(
    help="Accounts: create users, API tokens and passwords.", no_args_is_help=True
)
USERNAME = typer.Argument(..., metavar="NAME", help="The user's login name.")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from standard input (for scripts)."
)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    except typer.Abort:  # input ended (no terminal, Ctrl-D): Typer would print "Aborted!"
        fail("no password given: type it at the prompt, or pipe it in with --password-stdin")
        raise


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    username: str = USERNAME,
    admin: bool = typer.Option(False, "--admin", help="Give the admin role."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Create a user (the first admin is created this way). Names: 2-32 letters a-z, digits,
    '.', '_' or '-', starting and ending with a letter or digit; stored in small letters."""
    try:
        name = accounts.valid_username(username)  # before asking for a password
        password = hash_password(_read_password(password_stdin))
        with engine(ctx, create=True).begin() as conn:
            accounts.create_user(conn, name, password, "admin" if admin else "user")
    except (WeakPassword, accounts.AccountError) as exc:
        fail(str(exc))
    out.print(f"created {'admin' if admin else 'user'} {name}", highlight=False)


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    username: str = USERNAME,
    name: str = typer.Option("cli", metavar="LABEL", help="A label for the token."),
) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    user = user_named(engine(ctx), username)
    token, hashed = new_token()
    try:
        with engine(ctx).begin() as conn:
            accounts.create_api_token(conn, hashed, user["id"], name)
    except accounts.AccountError as exc:
        fail(str(exc))
    sys.stdout.write(token + "\n")


@users_app.command("tokens")
def users_tokens(
    ctx: typer.Context,
    username: str = USERNAME,
    as_json: bool = AS_JSON,
) -> None:
    """List a user's API tokens: id (for revoke-token), name, created, last used."""
    user = user_named(engine(ctx), username)
    with engine(ctx).connect() as conn:
        found = accounts.api_tokens_of(conn, user["id"])
    if as_json:
        emit_json(found)
        return
    for t in found:
        used = f"{t['last_used_at']:%Y-%m-%d %H:%M}" if t["last_used_at"] else "never used"
        out.print(f"{t['id']}  {t['name']}  created {t['created_at']:%Y-%m-%d %H:%M}  {used}")
    if not found:
        out.print(f"{user['username']} has no API tokens", highlight=False)


@users_app.command("revoke-token")
def users_revoke_token(
    ctx: typer.Context,
    username: str = USERNAME,
    token_id: str = typer.Argument(..., metavar="ID", help="The id `users tokens` lists."),
) -> None:
    """Revoke one of a user's API tokens."""
    user = user_named(engine(ctx), username)
    try:
        with engine(ctx).begin() as conn:
            accounts.revoke_api_token(conn, user["id"], token_id)
    except accounts.AccountError as exc:
        fail(str(exc))
    out.print(f"revoked token {token_id} of {user['username']}", highlight=False)


@users_app.command("password")
def users_password(
    ctx: typer.Context,
    username: str = USERNAME,
    password_stdin: bool = PASSWORD_STDIN,
    revoke_tokens: bool = typer.Option(
        False, "--revoke-tokens", help="Also revoke every API token of the user."
    ),
) -> None:
    """Set a user's password (the operator's reset: no current password needed) and sign them
    out of every session."""
    user = user_named(engine(ctx), username)
    try:
        hashed = hash_password(_read_password(password_stdin))
    except WeakPassword as exc:
        fail(str(exc))
        return
    with engine(ctx).begin() as conn:
        ended = accounts.set_password(conn, user["id"], hashed, revoke_tokens)
    tokens = f", {ended['tokens_revoked']} API token(s) revoked" if revoke_tokens else ""
    out.print(
        f"password of {user['username']} changed: "
        f"{ended['sessions_revoked']} session(s) signed out{tokens}",
        highlight=False,
    )


@users_app.command("hide-votes")
def users_hide_votes(
    ctx: typer.Context,
    username: str = USERNAME,
    undo: bool = typer.Option(False, "--undo", help="Count the user's votes again."),
) -> None:
    """Stop counting a user's votes (admin moderation), or count them again with --undo."""
    try:
        with engine(ctx).begin() as conn:
            accounts.set_votes_hidden(conn, username, not undo)
    except accounts.AccountError as exc:
        fail(str(exc))
    out.print(f"votes of {username} {'count again' if undo else 'hidden'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
