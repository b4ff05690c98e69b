"""Threads encrypted at rest: the serializer HEF's checkpointers use, AES-sealed when a key is in the environment.

With a key, every checkpoint and pending write is sealed with LangGraph's ``EncryptedSerializer``, its cipher
AES-GCM (``CheckedCipher``), which also opens rows LangGraph's own ``LANGGRAPH_AES_KEY`` sealed (AES-EAX).
``HEF_AES_KEY`` wins over ``LANGGRAPH_AES_KEY`` when both are set. Rows written before the key was set stay
readable (they are plaintext) and are not rewritten; a sealed row read without the key, or with another one,
raises ``EncryptionKeyError``. Thread ids and checkpoint metadata stay plaintext: the savers look threads up by
them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.serde.base import CipherProtocol, SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from hef_graph.errors import EncryptionKeyError

log = logging.getLogger(__name__)

KEY_VARIABLES = ("HEF_AES_KEY", "LANGGRAPH_AES_KEY")
"""Where the AES key is read, first wins: HEF's own variable is the more specific setting, so a deployment whose
LangGraph server has its own ``LANGGRAPH_AES_KEY`` can give HEF's in-process threads another key."""
KEY_LENGTHS = (16, 24, 32)
"""AES-128, AES-192 and AES-256: the key is the variable's UTF-8 bytes, as LangGraph reads its own variable."""


@dataclass(frozen=True)
class AesKey:
    """A checked AES key and the variable it came from (named in errors; the secret never is)."""

    variable: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class Sealed:
    """A plain channel value (str, number, bool) boxed so ``PostgresSaver`` stores it through the serializer.

    ``PostgresSaver`` keeps plain values in the checkpoint's JSON column, where no serializer sees them: the
    reply, the emotion and the crisis flag would stay readable with a key set. ``ThreadSerializer`` unboxes it.
    """

    value: str | int | float | bool


class ThreadSerializer(JsonPlusSerializer):
    """LangGraph's serializer that names the missing key instead of failing deep inside on a sealed row.

    A sealed row (type ``msgpack+aes``) reaches it only when no key is set: with one, ``EncryptedSerializer``
    opens the row first. It subclasses ``JsonPlusSerializer`` so LangGraph's msgpack allowlist still applies.
    """

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize as LangGraph does, a ``Sealed`` box as the value it holds."""
        return super().dumps_typed(obj.value if isinstance(obj, Sealed) else obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Deserialize a plaintext row; refuse a sealed one with what to set."""
        if "+" in data[0]:
            variables = " or ".join(KEY_VARIABLES)
            raise EncryptionKeyError(
                f"this thread was saved encrypted and no AES key is set: set {variables} to the key it was saved with"
            )
        return super().loads_typed(data)


GCM = "aes-gcm"
"""The cipher name of rows HEF seals: AES-GCM through OpenSSL (``cryptography``), a 12-byte nonce first."""
NONCE_BYTES = 12


class CheckedCipher(CipherProtocol):
    """Seals with AES-GCM, opens both AES-GCM and LangGraph's own AES-EAX rows, and names the key on a failed check.

    LangGraph's pycryptodome EAX costs about 0.8 ms a checkpoint write and read here, some 17 ms a turn; OpenSSL's
    GCM costs a few microseconds. Rows LangGraph sealed (``LANGGRAPH_AES_KEY``, type ``...+aes``) stay readable.
    """

    def __init__(self, eax: CipherProtocol, key: AesKey) -> None:
        """Keep LangGraph's EAX cipher for its rows, and a GCM cipher of the same key for HEF's."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.eax = eax
        self.gcm = AESGCM(key.secret)
        self.variable = key.variable

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        """Seal with a fresh random nonce (never reused: 96 random bits a row)."""
        nonce = os.urandom(NONCE_BYTES)
        return GCM, nonce + self.gcm.encrypt(nonce, plaintext, None)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        """Open and verify; a row sealed with another key raises ``EncryptionKeyError``, never garbage."""
        from cryptography.exceptions import InvalidTag

        try:
            if ciphername == GCM:
                return self.gcm.decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], None)
            return self.eax.decrypt(ciphername, ciphertext)
        except (ValueError, InvalidTag):
            raise EncryptionKeyError(
                f"this thread cannot be decrypted with the key in {self.variable}: it was saved with another key "
                "(or altered since); set it to the key the thread was saved with"
            ) from None


def aes_key() -> AesKey | None:
    """The AES key from the environment (``HEF_AES_KEY``, else ``LANGGRAPH_AES_KEY``), checked; None: no key."""
    found = [(name, os.environ[name]) for name in KEY_VARIABLES if os.environ.get(name)]
    if not found:
        return None
    if len({value for _, value in found}) > 1:
        log.warning("HEF_AES_KEY and LANGGRAPH_AES_KEY differ: HEF's threads use HEF_AES_KEY")
    variable, value = found[0]
    secret = value.encode()
    if len(secret) not in KEY_LENGTHS:
        raise EncryptionKeyError(
            f"{variable} must be 16, 24 or 32 bytes long (AES-128/192/256), not {len(secret)}; for example the 32 "
            "characters of: python -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    return AesKey(variable, secret)


def thread_serializer(key: AesKey | None) -> SerializerProtocol:
    """LangGraph's serializer, sealed with AES when there is a key (LangGraph's ``EncryptedSerializer``)."""
    plain = ThreadSerializer()
    if key is None:
        return plain
    aes = EncryptedSerializer.from_pycryptodome_aes(plain, key=key.secret)
    return EncryptedSerializer(CheckedCipher(aes.cipher, key), plain)
