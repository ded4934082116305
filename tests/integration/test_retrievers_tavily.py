"""TavilyRetriever with the real ``tavily-python`` client against the Tavily stub."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from crossroads.errors import ConfigurationError
from crossroads.tools.retrievers import (
    BackendUnavailable,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    TavilyRetriever,
)
from tests.stubs.tavily_stub import DEFAULT_API_KEY, TavilyStub

pytestmark = pytest.mark.integration


@pytest.fixture
def stub() -> Iterator[TavilyStub]:
    with TavilyStub() as running:
        yield running


def retriever_for(
    stub: TavilyStub, *, key: str = DEFAULT_API_KEY, timeout: float = 2.0
) -> TavilyRetriever:
    return TavilyRetriever(key, timeout=timeout, base_url=stub.base_url)


def test_search_returns_results_as_passages(stub: TavilyStub) -> None:
    with retriever_for(stub) as retriever:
        passages = retriever.search("Eiffel Tower in Paris", 2)

    assert passages[0].title == "Paris"
    assert passages[0].source == "https://example.org/paris"
    assert passages[0].score == pytest.approx(0.9)
    assert passages[0].backend == "tavily"
    assert "Eiffel Tower" in passages[0].text
    sent = stub.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert sent["json"]["query"] == "Eiffel Tower in Paris"
    assert sent["json"]["max_results"] == 2


def test_wrong_key_is_a_permanent_error_naming_the_setting(stub: TavilyStub) -> None:
    with pytest.raises(RetrievalError, match="TAVILY_API_KEY") as caught:
        retriever_for(stub, key="tvly-wrong").search("Paris", 2)

    assert not isinstance(caught.value, RateLimited | BackendUnavailable | RetrievalTimeout)
    assert caught.value.backend == "tavily"


def test_rate_limit_raises_rate_limited_with_retry_after(stub: TavilyStub) -> None:
    stub.mode = "rate_limited"
    with pytest.raises(RateLimited, match="retry after 3 s") as caught:
        retriever_for(stub).search("Paris", 2)

    assert caught.value.retry_after == 3.0


def test_retry_after_is_not_carried_over_to_a_later_error(stub: TavilyStub) -> None:
    retriever = retriever_for(stub)
    stub.mode = "rate_limited"
    with pytest.raises(RateLimited):
        retriever.search("Paris", 2)
    stub.retry_after = "soon"  # not a number of seconds
    with pytest.raises(RateLimited) as caught:
        retriever.search("Paris", 2)

    assert caught.value.retry_after is None


def test_server_error_is_backend_unavailable(stub: TavilyStub) -> None:
    stub.mode = "error500"
    with pytest.raises(BackendUnavailable, match="HTTP 500"):
        retriever_for(stub).search("Paris", 2)


def test_answer_that_is_not_json_is_a_retrieval_error(stub: TavilyStub) -> None:
    stub.mode = "not_json"
    with pytest.raises(RetrievalError, match="not the expected JSON"):
        retriever_for(stub).search("Paris", 2)


def test_stalled_server_raises_retrieval_timeout_in_about_the_timeout() -> None:
    with TavilyStub(mode="stall", stall_seconds=30) as stub:
        retriever = retriever_for(stub, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RetrievalTimeout) as caught:
            retriever.search("Paris", 2)
        elapsed = time.monotonic() - started

    assert 0.4 < elapsed < 3.0  # the stall lasts 30 s
    assert isinstance(caught.value, TimeoutError)  # the client's own TimeoutError is not one


def test_refused_connection_is_backend_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    retriever = TavilyRetriever(
        DEFAULT_API_KEY, timeout=2.0, base_url=f"http://127.0.0.1:{free_port}"
    )

    with pytest.raises(BackendUnavailable, match="could not be reached"):
        retriever.search("Paris", 2)


def test_no_match_gives_an_empty_list(stub: TavilyStub) -> None:
    assert retriever_for(stub).search("xylophone", 3) == []


def test_long_content_is_trimmed(stub: TavilyStub) -> None:
    retriever = TavilyRetriever(DEFAULT_API_KEY, timeout=2.0, base_url=stub.base_url, max_chars=150)

    passage = retriever.search("Khufu Giza pyramid", 1)[0]

    assert len(passage.text) <= 150
    assert "Khufu" in passage.text


@pytest.mark.parametrize("key", ["", "   "])
def test_missing_key_is_a_configuration_error(key: str) -> None:
    with pytest.raises(ConfigurationError, match="TAVILY_API_KEY"):
        TavilyRetriever(key)


def test_stub_answers_like_tavily_when_asked_for_an_answer(stub: TavilyStub) -> None:
    # Guards the stub itself, which other tests (agents) rely on.
    import urllib.request

    request = urllib.request.Request(
        stub.base_url + "/search",
        data=json.dumps({"query": "Marie Curie", "include_answer": True}).encode(),
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        body = json.load(response)

    assert set(body) >= {"query", "answer", "results", "images", "response_time"}
    assert body["results"][0]["title"] == "Marie Curie"
    assert body["answer"].startswith("Marie Curie was")
