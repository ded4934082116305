"""The research agent's subgraph: rewrite → retrieve → grade (⇄ rewrite) → answer.

```
START → rewrite → retrieve → grade ─┬─ answer → END      (kept passages, or nothing more to try)
                                    ├─ rewrite            (nothing relevant; one more query)
                                    └─ END                (a node failed: error in state)
```

The loop is bounded: ``after_grade`` (the one decision, kept here with the edges it drives)
sends the run back to ``rewrite`` only while fewer than
``min(settings.max_tries, MAX_SEARCH_ROUNDS)`` searches were made. Nodes are wrapped with
:func:`~crossroads.graphs.guard.guarded`, so an unexpected ``CrossroadsError`` ends the
subgraph with ``error`` set instead of raising (the agent itself degrades gracefully when a
model call fails: keyword query, keep unsure passages, extractive answer).

Where the passages come from is injectable: ``build_researcher_graph(search_factory=...)``
takes a callable ``Settings -> SearchSetup | MultiRetriever | Retriever``, for tests (a stub
Wikipedia endpoint) and for callers with their own retriever::

    from functools import partial
    from crossroads.search import make_search

    graph = build_researcher_graph(
        search_factory=partial(make_search, wikipedia_api_url="http://127.0.0.1:8080/w/api.php")
    )
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from crossroads.agents.researcher import (
    AGENT,
    ResearchState,
    answer_question,
    grade_passages,
    make_retrieve_node,
    rewrite_query,
    rounds_allowed,
)
from crossroads.contract import AgentInput, AgentOutput, run_settings
from crossroads.graphs.guard import guarded, stop_on_error
from crossroads.retry import node_retry_policy
from crossroads.search import SearchFactory
from crossroads.settings import Settings


async def after_grade(state: ResearchState, runtime: Runtime[Settings]) -> str:
    """``answer`` when something was kept or searching again cannot help, else ``rewrite``."""
    if state.get("error"):
        return "end"
    if state.get("kept"):
        return "answer"
    rounds = state.get("rounds") or []
    latest = rounds[-1] if rounds else None
    if latest is None or not latest["backends"]:
        return "answer"  # nothing could be searched; another query changes nothing
    if len(latest["failed"]) == len(latest["backends"]):
        return "answer"  # every backend failed; the query was not the problem
    settings = run_settings(runtime)
    if settings.has_model and len(rounds) < rounds_allowed(settings):
        return "rewrite"
    return "answer"


def build_researcher_graph(
    *, search_factory: SearchFactory | None = None
) -> StateGraph[ResearchState, Settings, AgentInput, AgentOutput]:
    """Build the research agent's subgraph.

    Args:
        search_factory: Builds the retriever for a run's settings (default:
            :func:`crossroads.search.make_search`, the backends in ``settings``).

    Returns:
        The uncompiled subgraph; its context is :class:`~crossroads.settings.Settings`.
    """
    graph = StateGraph(
        ResearchState, context_schema=Settings, input_schema=AgentInput, output_schema=AgentOutput
    )
    graph.add_node("rewrite", guarded(AGENT, "rewrite", rewrite_query))
    # Built-in backends retry inside MultiRetriever and report failures; the node policy
    # only catches a raw transient error from a custom retriever (see crossroads.retry).
    graph.add_node(
        "retrieve",
        guarded(AGENT, "retrieve", make_retrieve_node(search_factory)),
        retry_policy=node_retry_policy(),
    )
    graph.add_node("grade", guarded(AGENT, "grade", grade_passages))
    graph.add_node("answer", guarded(AGENT, "answer", answer_question))
    graph.add_edge(START, "rewrite")
    graph.add_conditional_edges(
        "rewrite", stop_on_error("retrieve", END), {"retrieve": "retrieve", END: END}
    )
    graph.add_conditional_edges(
        "retrieve", stop_on_error("grade", END), {"grade": "grade", END: END}
    )
    graph.add_conditional_edges(
        "grade", after_grade, {"answer": "answer", "rewrite": "rewrite", "end": END}
    )
    graph.add_edge("answer", END)
    return graph
