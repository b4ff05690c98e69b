"""Who is at the page: a signed token's identity (issue 36), or the one local person when authentication is off.

The browser keeps the token in an HttpOnly, same-site cookie; the console checks it on every request and, against
a LangGraph server, forwards it as the bearer token, so the server's own rules apply too.
"""

from __future__ import annotations

import logging

from hef_graph.auth.config import LOCAL_PERSON, AuthSetupError, auth_is_off, verifier_from_env
from hef_graph.auth.tokens import Identity, TokenRefused, TokenVerifier
from hef_graph.console.records import Visitor
from hef_graph.console.settings import ConsoleSettings, auth_configured

log = logging.getLogger(__name__)
TOKEN_COOKIE = "hef_token"


class Gate:
    """Turns a request's token into a Visitor, or refuses it with the reason."""

    def __init__(self, verifier: TokenVerifier | None) -> None:
        """``verifier`` None: authentication is off and every visitor is the one local person."""
        self.verifier = verifier

    @property
    def auth_on(self) -> bool:
        """Whether visitors sign in with a token."""
        return self.verifier is not None

    def visitor(self, token: str | None) -> Visitor:
        """The visitor a token names; raises TokenRefused (no token, bad signature, expired)."""
        if self.verifier is None:
            return Visitor(Identity(LOCAL_PERSON), local=True)
        if not token:
            raise TokenRefused("sign in with the token you were given (hef token --user ID makes one)")
        return Visitor(self.verifier.verify(token), token)


def gate_for(settings: ConsoleSettings) -> Gate:
    """Authentication as the environment sets it up (``hef_graph.auth.config``).

    On this machine alone (a loopback address) with no secret set, the console runs as the one local person, as
    ``HEF_AUTH=off`` does: a newcomer's ``hef console`` works as is. A console others can reach needs a secret.
    """
    if auth_is_off() or (not auth_configured() and settings.loopback):
        log.warning("authentication is off: every visitor is the one local person %r", LOCAL_PERSON)
        return Gate(None)
    if not auth_configured():
        raise AuthSetupError(f"a console on {settings.host}, which others can reach, needs authentication: set "
                             "HEF_AUTH_SECRET (hef token --new-secret), or bind 127.0.0.1")  # fmt: skip
    return Gate(verifier_from_env())
