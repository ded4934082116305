"""WikipediaRetriever with the real ``wikipedia`` package against the MediaWiki stub."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import wikipedia
import wikipedia.wikipedia as wikipedia_module

from crossroads.tools.retrievers import (
    BackendUnavailable,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    WikipediaRetriever,
)
from crossroads.tools.retrievers.wikipedia_backend import USER_AGENT
from tests.stubs.wikipedia_stub import WikipediaStub, wiki_url

pytestmark = pytest.mark.integration


@pytest.fixture
def stub() -> Iterator[WikipediaStub]:
    with WikipediaStub() as running:
        yield running


def test_search_returns_article_passages_shaped_like_the_api_answer(stub: WikipediaStub) -> None:
    passages = WikipediaRetriever(api_url=stub.api_url, timeout=2.0).search("Egyptian pyramids", 3)

    first = passages[0]
    assert first.title == "Egyptian pyramids"
    assert first.source == wiki_url("Egyptian pyramids")
    assert first.backend == "wikipedia"
    assert first.score == 1.0
    assert "tombs for the pharaohs" in first.text
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    search_requests = [r for r in stub.requests if r["params"].get("list") == "search"]
    assert search_requests[0]["params"]["srsearch"] == "Egyptian pyramids"
    assert search_requests[0]["params"]["srlimit"] == "3"
    assert all(r["headers"]["User-Agent"] == USER_AGENT for r in stub.requests)


def test_k_limits_the_number_of_passages(stub: WikipediaStub) -> None:
    retriever = WikipediaRetriever(api_url=stub.api_url, timeout=2.0)

    assert len(retriever.search("Paris France pyramids Egypt Curie physicist", 3)) == 3
    assert len(retriever.search("Paris France pyramids Egypt Curie physicist", 1)) == 1


def test_long_articles_are_trimmed_to_the_parts_about_the_query(stub: WikipediaStub) -> None:
    retriever = WikipediaRetriever(api_url=stub.api_url, timeout=2.0, max_chars=200)

    passage = retriever.search("Egyptian pyramids Khufu Giza", 1)[0]

    assert len(passage.text) <= 200
    assert "Khufu" in passage.text
    assert "limestone blocks" not in passage.text  # the construction paragraph has no query term


def test_disambiguation_page_is_replaced_by_an_option_not_already_found(
    stub: WikipediaStub,
) -> None:
    passages = WikipediaRetriever(api_url=stub.api_url, timeout=2.0).search("Curie", 3)

    assert [p.title for p in passages] == ["Marie Curie"]


def test_no_match_gives_an_empty_list(stub: WikipediaStub) -> None:
    assert WikipediaRetriever(api_url=stub.api_url, timeout=2.0).search("xylophone", 3) == []


def test_stalled_server_raises_retrieval_timeout_in_about_the_timeout() -> None:
    with WikipediaStub(mode="stall", stall_seconds=30) as stub:
        retriever = WikipediaRetriever(api_url=stub.api_url, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RetrievalTimeout) as caught:
            retriever.search("Egyptian pyramids", 3)
        elapsed = time.monotonic() - started

    assert 0.4 < elapsed < 3.0  # the stall lasts 30 s
    assert caught.value.backend == "wikipedia"
    assert isinstance(caught.value, TimeoutError)


def test_timeout_bounds_the_whole_search_not_each_request() -> None:
    # Each answer takes 0.3 s, under the 0.8 s timeout, but a 3-article search needs 7 requests.
    with WikipediaStub(mode="slow", slow_seconds=0.3) as stub:
        retriever = WikipediaRetriever(api_url=stub.api_url, timeout=0.8)
        started = time.monotonic()
        with pytest.raises(RetrievalTimeout):
            retriever.search("Paris France pyramids Egypt Curie physicist", 3)
        elapsed = time.monotonic() - started

    assert elapsed < 1.5
    assert len(stub.requests) < 7


@pytest.mark.parametrize(
    ("mode", "error_type", "words"),
    [
        ("error500", BackendUnavailable, "HTTP 500"),
        ("rate_limited", RateLimited, "429"),
        ("not_json", RetrievalError, "not JSON"),
        ("api_error", RetrievalError, "stub failure"),
    ],
)
def test_server_failures_map_to_typed_errors(
    stub: WikipediaStub, mode: str, error_type: type[RetrievalError], words: str
) -> None:
    stub.mode = mode
    with pytest.raises(error_type) as caught:
        WikipediaRetriever(api_url=stub.api_url, timeout=2.0).search("Paris", 2)

    assert words in str(caught.value)
    assert caught.value.backend == "wikipedia"
    assert not isinstance(caught.value, RetrievalTimeout)


def test_rate_limit_carries_retry_after(stub: WikipediaStub) -> None:
    stub.mode = "rate_limited"
    with pytest.raises(RateLimited) as caught:
        WikipediaRetriever(api_url=stub.api_url, timeout=2.0).search("Paris", 2)

    assert caught.value.retry_after == 1.0


def test_refused_connection_is_backend_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    retriever = WikipediaRetriever(api_url=f"http://127.0.0.1:{free_port}/w/api.php", timeout=2.0)

    with pytest.raises(BackendUnavailable, match="could not be reached"):
        retriever.search("Paris", 2)


def test_package_globals_are_untouched_and_plain_calls_pass_through(
    stub: WikipediaStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_url_before = wikipedia_module.API_URL
    WikipediaRetriever(api_url=stub.api_url, timeout=2.0).search("Paris", 1)
    assert api_url_before == wikipedia_module.API_URL

    # Outside a retriever call the package behaves as it always did: its own URL and User-Agent.
    monkeypatch.setattr(wikipedia_module, "API_URL", stub.api_url)
    stub.requests.clear()
    assert wikipedia.search.__wrapped__("Paris") == ["Paris"]
    assert stub.requests[0]["headers"]["User-Agent"] == wikipedia_module.USER_AGENT


def test_concurrent_retrievers_each_use_their_own_endpoint() -> None:
    with WikipediaStub() as healthy, WikipediaStub(mode="error500") as broken:
        good = WikipediaRetriever(api_url=healthy.api_url, timeout=5.0)
        bad = WikipediaRetriever(api_url=broken.api_url, timeout=5.0)
        outcomes: dict[str, list[str]] = {"good": [], "bad": []}

        def run(name: str, retriever: WikipediaRetriever) -> None:
            for _ in range(5):
                try:
                    titles = [p.title for p in retriever.search("Paris", 1)]
                    outcomes[name].append(f"ok:{titles}")
                except BackendUnavailable:
                    outcomes[name].append("unavailable")

        threads = [
            threading.Thread(target=run, args=("good", good)),
            threading.Thread(target=run, args=("bad", bad)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)

    assert outcomes["good"] == ["ok:['Paris']"] * 5
    assert outcomes["bad"] == ["unavailable"] * 5


def test_non_positive_timeout_is_rejected() -> None:
    with pytest.raises(ValueError, match="timeout"):
        WikipediaRetriever(timeout=0)
