"""Exceptions callers can catch."""


class InvalidInput(ValueError):
    """The graph's input is malformed: the message says what was wrong and what was expected."""


class LLMUnavailable(RuntimeError):
    """The LLM kept failing (errors or timeouts) after the bounded retries; the turn's reply could not be drafted."""


class HandoffError(ValueError):
    """A hand-off cannot be resumed as asked: the thread is not paused, or the reviewer's answer does not fit."""


class MissingUserId(ValueError):
    """Memory is on but the run's Context names no user: HEF never guesses whose memories to read or write."""


class IdentityMismatch(PermissionError):
    """A served run's Context names a person other than the authenticated caller: refused, never used."""


class EncryptionKeyError(ValueError):
    """The thread store's AES key is malformed, missing, or not the key a thread was written with.

    The message names the variable to set; HEF never returns an encrypted thread as garbage or as empty.
    """
