"""Node-level retries, and which layer retries what.

Crossroads retries a transient failure (rate limit, overload, timeout, dropped connection)
exactly once per layer, at the lowest layer that can do it well, so retries never stack:

==========================  ============================================================
layer                       retries
==========================  ============================================================
provider clients            nothing: :mod:`crossroads.models` sets ``max_retries=0``
``ModelCaller`` (per call)  model calls: jittered backoff that never undercuts the
                            server's ``Retry-After``/``retryDelay``, inside the request's
                            budgets, then the role's fallback models
``MultiRetriever``          each search backend's typed ``RetrievalError`` failures
                            (``RetrievalTimeout``, ``BackendUnavailable``, ``RateLimited``);
                            a backend that still fails is *reported*, not raised
node ``RetryPolicy``        what escapes both: a raw transient exception from non-LLM I/O
                            in a node, such as a custom retriever (``search_factory``) that
                            raises ``requests.ConnectionError`` or ``httpx.ReadTimeout``
                            instead of a ``RetrievalError``
==========================  ============================================================

Why not a ``RetryPolicy`` on nodes that call a model: a policy re-runs the whole node, so
the calls that already succeeded in it are made (and paid for) again, and it cannot honour
``Retry-After``. Model calls are retried inside :class:`~crossroads.llm.ModelCaller`, and
their failures reach the graph as :class:`~crossroads.errors.CrossroadsError`, which
:func:`is_transient` judges lasting, so a policy on such a node would never fire anyway.

So the policy below goes on nodes whose I/O is not a model call and whose re-run is cheap
and harmless. In the built-in graphs that is the research agent's ``retrieve`` node
(:mod:`crossroads.graphs.researcher`); the calculator engine, the writers' nodes and the
router do no other I/O. Its ``retry_on`` is :func:`crossroads.transient.is_transient`,
which, unlike LangGraph's default, knows requests' ``ConnectionError``/``Timeout``, httpx's
and aiohttp's network errors and HTTP 429. A failure that outlives the policy reaches
:class:`crossroads.Crossroads`, which ends the request with a clear ``error``.

Typical use, in a graph builder::

    graph.add_node("fetch", guarded("mine", "fetch", fetch), retry_policy=node_retry_policy())
"""

from __future__ import annotations

from langgraph.types import RetryPolicy

from crossroads.settings import Settings
from crossroads.transient import is_transient

MAX_NODE_ATTEMPTS = 4
"""Attempts of one node at most (the first included), whatever ``model_retries`` says."""

FIRST_RETRY_INTERVAL_S = 0.5
"""Wait before the first retry; doubled for each later one (LangGraph adds up to 1 s of
jitter to every wait)."""

MAX_RETRY_INTERVAL_S = 4.0
"""Longest wait between two attempts, before jitter."""


def node_retry_policy(settings: Settings | None = None) -> RetryPolicy:
    """The ``RetryPolicy`` for nodes that do non-LLM I/O.

    Args:
        settings: Supplies ``model_retries``, Crossroads' number of retries of a transient
            failure (default: ``Settings()``). A policy is fixed when the graph is built,
            before any run's settings are known, so the built-in graphs use the default
            (3 attempts) whatever a run's ``model_retries`` says.

    Returns:
        A policy that retries only transient failures (:func:`is_transient`), at most
        ``min(settings.model_retries + 1, MAX_NODE_ATTEMPTS)`` attempts in all, with
        jittered exponential backoff; ``model_retries=0`` means a single attempt.
    """
    chosen = settings if settings is not None else Settings()
    attempts = max(1, min(chosen.model_retries + 1, MAX_NODE_ATTEMPTS))
    return RetryPolicy(
        initial_interval=FIRST_RETRY_INTERVAL_S,
        backoff_factor=2.0,
        max_interval=MAX_RETRY_INTERVAL_S,
        max_attempts=attempts,
        jitter=True,
        retry_on=is_transient,
    )
