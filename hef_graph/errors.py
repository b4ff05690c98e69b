"""Exceptions callers can catch."""


class InvalidInput(ValueError):
    """The graph's input is malformed: the message says what was wrong and what was expected."""
