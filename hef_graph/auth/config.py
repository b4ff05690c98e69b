"""How the served graph authenticates, read from the environment once at server start.

- default: signed tokens checked with ``HEF_AUTH_SECRET`` (the server refuses to start without it);
- ``HEF_AUTH_VERIFIER=package.module:name``: your own ``TokenVerifier`` (an object, or a callable making one);
- ``HEF_AUTH=off``: no authentication, every caller is one local person. For local development only, it is
  logged loudly, and it is refused when emotional memory is on (``HEF_MEMORY=1``).
"""

from __future__ import annotations

import importlib
import logging
import os

from hef_graph.auth.tokens import TokenVerifier, signed_tokens_from_env

log = logging.getLogger(__name__)

LOCAL_PERSON = "local"
"""The one person every caller is when authentication is off."""


class AuthSetupError(RuntimeError):
    """The server's authentication settings are missing or contradict each other; it must not start."""


def auth_is_off() -> bool:
    """Whether the deployer chose, explicitly, to serve without authentication."""
    return os.environ.get("HEF_AUTH", "").strip().lower() == "off"


def verifier_from_env() -> TokenVerifier | None:
    """The verifier the environment names; None when authentication is explicitly off."""
    if auth_is_off():
        log.warning("HEF_AUTH=off: AUTHENTICATION IS OFF. Every caller is the person %r and sees all threads. "
                    "Use this for local development only.", LOCAL_PERSON)  # fmt: skip
        return None
    custom = os.environ.get("HEF_AUTH_VERIFIER")
    if custom:
        return _import_verifier(custom)
    try:
        return signed_tokens_from_env()
    except ValueError as error:
        raise AuthSetupError(f"{error} (or set HEF_AUTH=off, for local development without memory only)") from None


def check_memory_serving(memory: bool) -> None:
    """Refuse to serve emotional memory without authentication: it is what people feel, and why."""
    if not memory:
        return
    if auth_is_off():
        raise AuthSetupError("HEF_MEMORY=1 needs authentication: unset HEF_AUTH=off and set HEF_AUTH_SECRET")
    if not os.environ.get("HEF_AUTH_VERIFIER") and not os.environ.get("HEF_AUTH_SECRET"):
        raise AuthSetupError("HEF_MEMORY=1 needs authentication: set HEF_AUTH_SECRET (hef token --new-secret)")


def _import_verifier(spec: str) -> TokenVerifier:
    module_name, _, name = spec.partition(":")
    if not name:
        raise AuthSetupError(f"HEF_AUTH_VERIFIER must read 'package.module:name', got {spec!r}")
    found = getattr(importlib.import_module(module_name), name)
    verifier = found() if isinstance(found, type) or (callable(found) and not hasattr(found, "verify")) else found
    if not callable(getattr(verifier, "verify", None)):
        raise AuthSetupError(f"HEF_AUTH_VERIFIER {spec!r} has no verify(token) method")
    return verifier
