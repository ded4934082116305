"""The research agent end to end through ``Crossroads``, with the real ``wikipedia`` and
``tavily`` clients talking to stub servers on loopback, and a real local index on disk.

The app gets the built-in agents, except that the ``fact`` agent's graph is built with a
search factory pointing at the stubs (the only thing a test changes; everything else is the
shipped code path: router, subgraph, ``make_search``, ``MultiRetriever``, the clients).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from crossroads import Crossroads
from crossroads.agents.researcher import EXTRACTIVE_PREFIX
from crossroads.graphs.builtin_agents import FACT, MATH, NONE
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.registry import AgentSpec
from crossroads.search import make_search
from crossroads.testing import ScriptedChatModel
from crossroads.tools.retrievers import build_index
from tests.stubs.tavily_stub import DEFAULT_API_KEY, TavilyStub
from tests.stubs.wikipedia_stub import WikipediaStub, wiki_url

pytestmark = pytest.mark.integration

ROUTE_FACT = {"route": "fact", "reason": "a question about the world"}
PYRAMIDS_QUESTION = (
    "gee, I'm wondering whether they make those pyramids that are in like Egypt or something"
)
PYRAMIDS_URL = wiki_url("Egyptian pyramids")


@pytest.fixture
def wiki() -> Iterator[WikipediaStub]:
    with WikipediaStub() as running:
        yield running


def agents_searching(wiki: WikipediaStub, **endpoints: Any) -> tuple[AgentSpec, ...]:
    """The built-in agents, with the researcher's Wikipedia endpoint on the stub."""
    factory = partial(make_search, wikipedia_api_url=wiki.api_url, **endpoints)
    fact = dataclasses.replace(FACT, build=partial(build_researcher_graph, search_factory=factory))
    return (MATH, fact, NONE)


def searched_for(wiki: WikipediaStub) -> list[str]:
    return [r["params"]["srsearch"] for r in wiki.requests if r["params"].get("list") == "search"]


def researcher_step(result: Any, action: str) -> dict[str, Any]:
    found = [
        s["detail"] for s in result.steps if s["agent"] == "researcher" and s["action"] == action
    ]
    assert found, f"no researcher {action} step in {result.steps}"
    detail: dict[str, Any] = found[0]
    return detail


def write_notes(home: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "egypt.md").write_text(
        "Egyptian pyramids were built as tombs for pharaohs such as Khufu.\n", encoding="utf-8"
    )
    build_index([notes], home / "index")


def test_a_fact_question_is_answered_from_wikipedia_with_sources(
    make_app: Callable[..., Crossroads], wiki: WikipediaStub
) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_FACT],
            "researcher": [
                {"query": "Egyptian pyramids"},
                "Yes: the Egyptian pyramids are in Egypt, built as tombs for pharaohs [1].",
            ],
        }
    )
    app = make_app(model, agents=agents_searching(wiki))

    result = app.ask(PYRAMIDS_QUESTION, thread_id="t")

    assert searched_for(wiki) == ["Egyptian pyramids"]
    assert result.route == "fact" and result.mode == "llm" and result.error is None
    assert result.answer.endswith("tombs for pharaohs [1].")
    source = result.sources[0]
    assert (source["index"], source["title"], source["url"], source["backend"]) == (
        1,
        "Egyptian pyramids",
        PYRAMIDS_URL,
        "wikipedia",
    )
    retrieve = researcher_step(result, "retrieve")
    assert retrieve["backends"] == ["wikipedia"]
    assert retrieve["skipped"][0]["backend"] == "local"  # no index built: skipped, not an error
    answer_prompt = model.calls_for("researcher")[-1].prompt
    assert f'source="{PYRAMIDS_URL}"' in answer_prompt  # the real article text, fenced
    assert "tombs for the pharaohs" in answer_prompt
    assert result.usage["by_node"]["researcher.answer"]["llm_calls"] == 1


def test_when_wikipedia_is_down_the_local_index_answers(
    make_app: Callable[..., Crossroads],
    wiki: WikipediaStub,
    hermetic_env: Path,
    tmp_path: Path,
) -> None:
    write_notes(hermetic_env, tmp_path)
    wiki.mode = "error500"
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_FACT],
            "researcher": ["They were tombs for pharaohs [1]."],  # a direct question: no rewrite
        }
    )
    app = make_app(model, agents=agents_searching(wiki), search_backends=("wikipedia", "local"))

    result = app.ask("Why were the Egyptian pyramids built?", thread_id="t")

    assert result.answer == "They were tombs for pharaohs [1]."
    assert result.sources[0]["backend"] == "local"
    assert result.sources[0]["url"].endswith("egypt.md#chunk-1")
    failed = researcher_step(result, "retrieve")["failed"]
    assert [f["backend"] for f in failed] == ["wikipedia"]
    assert "HTTP 500" in failed[0]["error"]
    assert len(searched_for(wiki)) == 2  # one retry, then the fallback


def test_a_stalled_wikipedia_is_reported_plainly(
    make_app: Callable[..., Crossroads], wiki: WikipediaStub
) -> None:
    wiki.mode = "stall"
    model = ScriptedChatModel(
        by_role={"router": [ROUTE_FACT], "researcher": [{"query": "Egyptian pyramids"}]}
    )
    app = make_app(
        model, agents=agents_searching(wiki), search_backends=("wikipedia",), search_timeout=0.3
    )

    result = app.ask("Who built the Egyptian pyramids?", thread_id="t")

    assert result.answer.startswith("I could not look this up")
    assert "wikipedia failed: Wikipedia did not answer within 0.3 s" in result.answer
    assert result.error is not None and "wikipedia" in result.error
    assert result.sources == []


def test_wikipedia_rate_limited_falls_back_to_tavily(
    make_app: Callable[..., Crossroads], wiki: WikipediaStub
) -> None:
    wiki.mode = "rate_limited"
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_FACT],
            "researcher": [{"query": "Egyptian pyramids"}, "Most were tombs [1]."],
        }
    )
    with TavilyStub() as tavily:
        app = make_app(
            model,
            agents=agents_searching(wiki, tavily_base_url=tavily.base_url),
            search_backends=("wikipedia", "tavily"),
            tavily_api_key=DEFAULT_API_KEY,
        )

        result = app.ask(PYRAMIDS_QUESTION, thread_id="t")

    assert result.sources[0]["backend"] == "tavily"
    assert result.answer == "Most were tombs [1]."
    failed = researcher_step(result, "retrieve")["failed"]
    assert failed[0]["backend"] == "wikipedia" and "429" in failed[0]["error"]


def test_offline_the_app_answers_extractively_and_never_calls_wikipedia(
    make_app: Callable[..., Crossroads],
    wiki: WikipediaStub,
    hermetic_env: Path,
    tmp_path: Path,
) -> None:
    write_notes(hermetic_env, tmp_path)
    app = make_app(offline=True, agents=agents_searching(wiki))

    result = app.ask("Why were the Egyptian pyramids built?", thread_id="t")

    assert result.mode == "offline" and result.route == "fact"
    assert result.answer == (
        EXTRACTIVE_PREFIX + "Egyptian pyramids were built as tombs for pharaohs such as Khufu. [1]"
    )
    assert result.sources[0]["backend"] == "local"
    assert wiki.requests == []
    assert result.usage["llm_calls"] == 0
