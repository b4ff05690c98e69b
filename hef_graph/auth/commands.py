"""``hef token``: sign a bearer token for a person or a reviewer (local use and tests), or make a secret."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from hef_graph.auth.tokens import ROLES, Role, new_secret, signed_tokens_from_env


def token_command(
    user: Annotated[str | None, typer.Option(help="The person's (or reviewer's) user id.")] = None,
    role: Annotated[str, typer.Option(help="person (their own data) or reviewer (paused hand-offs only).")] = "person",
    days: Annotated[float, typer.Option(help="Days until the token expires.")] = 1.0,
    new_secret_: Annotated[
        bool, typer.Option("--new-secret", help="Print a fresh random HEF_AUTH_SECRET instead of a token.")
    ] = False,
) -> None:
    """Print a token signed with $HEF_AUTH_SECRET, which the served graph (langgraph.json) accepts."""
    if new_secret_:
        typer.echo(new_secret())
        return
    if user is None:
        raise typer.BadParameter("name the token's person: --user ID", param_hint="--user")
    if role not in ROLES:
        raise typer.BadParameter(f"expected one of {', '.join(ROLES)}", param_hint="--role")
    try:
        typer.echo(signed_tokens_from_env().issue(user, cast(Role, role), days))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
