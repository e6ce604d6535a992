"""Errors raised by the matcher; they know nothing of HTTP."""


class MatcherError(Exception):
    """Base error of the matcher (bad model folder, bad input, ...)."""


class NotFittedError(MatcherError):
    """A ranker was used before ``fit``."""
