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
