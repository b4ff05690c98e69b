"""Who is talking: bearer tokens, the verifier that reads them, and the signed (HS256) tokens HEF ships.

A verifier turns the text after ``Bearer`` into an ``Identity`` or raises ``TokenRefused`` with the reason a
client can act on (none, malformed, bad signature, expired). Deployments with their own identity provider pass
their own ``TokenVerifier``; the shipped one checks tokens signed with ``HEF_AUTH_SECRET`` (``hef token``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, Protocol, cast

Role = Literal["person", "reviewer"]
ROLES: tuple[Role, ...] = ("person", "reviewer")
"""person: their own threads and memories only; reviewer: the threads paused for a hand-off, nothing else."""
ISSUER = "hef-graph"
MIN_SECRET_CHARS = 32
"""HS256 is only as strong as its key: RFC 7518 asks for at least 256 bits."""


class TokenRefused(PermissionError):
    """A request's token cannot be accepted; the message says why (and the server answers 401 with it)."""


@dataclass(frozen=True)
class Identity:
    """The authenticated caller: whose data the request may touch, and in which role."""

    user_id: str
    role: Role = "person"

    @property
    def is_reviewer(self) -> bool:
        """Whether the caller answers hand-offs (and may touch nothing else)."""
        return self.role == "reviewer"


class TokenVerifier(Protocol):
    """Anything that turns a bearer token into an Identity, or refuses it with a reason."""

    def verify(self, token: str) -> Identity:
        """Return the token's identity; raise TokenRefused when it is not acceptable."""
        ...


class SignedTokens:
    """HS256 tokens (PyJWT) with a subject, a role, an issuer and an expiry, signed with one shared secret."""

    def __init__(self, secret: str) -> None:
        """Keep the secret; refuse one too short to sign with."""
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_CHARS} characters: hef token --new-secret")
        self._secret = secret

    def issue(self, user_id: str, role: Role = "person", days: float = 1.0, now: datetime | None = None) -> str:
        """Sign a token for ``user_id`` that expires after ``days``."""
        import jwt

        if not user_id.strip():
            raise ValueError("a token needs a non-empty user id")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        if days <= 0:
            raise ValueError(f"days must be positive, got {days}")
        issued = now or datetime.now(timezone.utc)
        claims = {"sub": user_id, "role": role, "iss": ISSUER, "iat": issued, "exp": issued + timedelta(days=days)}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Identity:
        """Check signature, issuer and expiry; the refusal names which one failed."""
        import jwt

        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["sub", "exp", "iss"]})  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the token has expired: ask for a new one (hef token)") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("the token's signature does not match this server's secret") from None
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"the token is not valid: {error}") from None
        role = claims.get("role", "person")
        if role not in ROLES or not isinstance(claims["sub"], str) or not claims["sub"].strip():
            raise TokenRefused("the token names no valid user or role")
        return Identity(claims["sub"], cast(Role, role))


def bearer_token(authorization: str | None) -> str:
    """The token in an ``Authorization: Bearer <token>`` header, or a refusal saying what is missing."""
    if not authorization or not authorization.strip():
        raise TokenRefused("no token: send the header 'Authorization: Bearer <token>' (hef token makes one)")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused("the Authorization header must read 'Bearer <token>'")
    return token.strip()


def signed_tokens_from_env() -> SignedTokens:
    """The shipped verifier, keyed by ``HEF_AUTH_SECRET``."""
    secret = os.environ.get("HEF_AUTH_SECRET")
    if not secret:
        raise ValueError("HEF_AUTH_SECRET is not set: make one with `hef token --new-secret` and export it")
    return SignedTokens(secret)


def new_secret() -> str:
    """A fresh random secret (64 URL-safe characters) for ``HEF_AUTH_SECRET``."""
    return secrets.token_urlsafe(48)
