"""Crossroads: a LangGraph multi-agent framework.

A router answers a multiple-choice question about each question (math, fact or none) and
hands it to the agent that can do the job: a calculator, a researcher that answers from
sources, or a team of writers.

    >>> from crossroads import Crossroads
    >>> Crossroads(offline=True).ask("What is 15% of 240?").answer
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from crossroads.api import Crossroads, Result, StreamEvent
from crossroads.errors import (
    BudgetExceeded,
    ConfigurationError,
    CrossroadsError,
    InputError,
    ModelError,
    RetrievalError,
    RetrievalTimeout,
    ThreadBusy,
)
from crossroads.registry import AgentSpec, register_agent
from crossroads.settings import Settings

try:
    __version__ = version("crossroads")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = [
    "AgentSpec",
    "BudgetExceeded",
    "ConfigurationError",
    "Crossroads",
    "CrossroadsError",
    "InputError",
    "ModelError",
    "Result",
    "RetrievalError",
    "RetrievalTimeout",
    "Settings",
    "StreamEvent",
    "ThreadBusy",
    "__version__",
    "register_agent",
]
