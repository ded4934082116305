"""Crossroads' error hierarchy.

Every error a user can cause or fix derives from :class:`CrossroadsError` and carries a
message written for a person to act on: what went wrong and what to set, install or change.
The CLI prints these as one line, never as a traceback.

    CrossroadsError
    ├── ConfigurationError   settings, keys or provider packages are missing or wrong
    ├── InputError           the question itself is unusable (empty, not text, ...)
    ├── ModelError           the chat model failed or answered with something unusable
    ├── RetrievalError       a search backend failed (see ``crossroads.tools.retrievers``)
    │   └── RetrievalTimeout
    ├── BudgetExceeded       a request hit its LLM-call, token or wall-time budget
    └── ThreadBusy           another request kept the thread longer than allowed
"""

from __future__ import annotations

from collections.abc import Iterator


class CrossroadsError(Exception):
    """Base class for every error Crossroads raises on purpose."""


class ConfigurationError(CrossroadsError):
    """Settings, API keys or provider packages are missing or invalid."""


class InputError(CrossroadsError, ValueError):
    """The question cannot be processed as given."""


class ModelError(CrossroadsError):
    """The chat model failed or returned something unusable.

    Attributes:
        kind: What kind of provider failure it was (see :class:`ProviderFailure`), or ``""``.
        code: The provider's own code (``HTTP 429 RESOURCE_EXHAUSTED``), or ``""``.
    """

    kind: str = ""
    code: str = ""


class RetrievalError(CrossroadsError):
    """A retrieval backend failed.

    Attributes:
        backend: Name of the backend that failed (``"wikipedia"``, ``"tavily"``, ...).
    """

    def __init__(self, message: str, *, backend: str = "") -> None:
        super().__init__(message)
        self.backend = backend


class RetrievalTimeout(RetrievalError, TimeoutError):
    """A retrieval backend did not answer within its timeout."""


class BudgetExceeded(CrossroadsError):
    """A request used up its budget of LLM calls, tokens or wall time."""


class ThreadBusy(CrossroadsError):
    """Another request kept the thread for longer than ``Settings.thread_lock_timeout``;
    nothing was written (see :mod:`crossroads.thread_locks`)."""


class FirstByteTimeout(TimeoutError):
    """A model server sent nothing (not even the first token) within ``first_byte_timeout``."""


MAX_CHAIN_DEPTH = 8
"""How many exceptions of a ``__cause__``/``__context__`` chain are examined at most."""


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` then its causes, as Python prints them (``__cause__``, else ``__context__``
    unless suppressed); bounded by :data:`MAX_CHAIN_DEPTH` and cycle-safe. Every reading of
    a provider's exception (transient? refused? unreadable? which code?) walks it this way."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and len(seen) < MAX_CHAIN_DEPTH and id(current) not in seen:
        seen.add(id(current))
        yield current
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__
