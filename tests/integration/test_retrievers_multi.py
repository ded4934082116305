"""MultiRetriever: fallback, retries and failure reports, with real clients against stubs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from crossroads.errors import ConfigurationError, InputError
from crossroads.tools.retrievers import (
    BackendUnavailable,
    MultiRetriever,
    Passage,
    RateLimited,
    RetrievalError,
    TavilyRetriever,
    WikipediaRetriever,
)
from tests.stubs.tavily_stub import DEFAULT_API_KEY, TavilyStub
from tests.stubs.wikipedia_stub import WikipediaStub

pytestmark = pytest.mark.integration


@pytest.fixture
def wiki() -> Iterator[WikipediaStub]:
    with WikipediaStub() as running:
        yield running


@pytest.fixture
def tavily() -> Iterator[TavilyStub]:
    with TavilyStub() as running:
        yield running


@dataclass
class SleepRecorder:
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def searches(stub: WikipediaStub) -> int:
    return sum(1 for r in stub.requests if r["params"].get("list") == "search")


def combined(
    wiki: WikipediaStub, tavily: TavilyStub, sleep: SleepRecorder, **options: object
) -> MultiRetriever:
    backends = [
        WikipediaRetriever(api_url=wiki.api_url, timeout=2.0),
        TavilyRetriever(DEFAULT_API_KEY, timeout=2.0, base_url=tavily.base_url),
    ]
    return MultiRetriever(backends, retries=1, backoff=0.2, sleep=sleep, **options)  # type: ignore[arg-type]


def test_all_backends_are_searched_and_merged_in_backend_order(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    outcome = combined(wiki, tavily, SleepRecorder()).search("Eiffel Tower Paris", 2)

    assert outcome.failures == []
    assert [p.backend for p in outcome.passages] == ["wikipedia", "tavily"]
    assert {p.title for p in outcome.passages} == {"Paris"}


def test_falls_back_to_tavily_when_wikipedia_is_down_and_reports_it(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    wiki.mode = "error500"
    sleep = SleepRecorder()

    outcome = combined(wiki, tavily, sleep).search("Eiffel Tower Paris", 2)

    assert [p.backend for p in outcome.passages] == ["tavily"]
    assert len(outcome.failures) == 1
    backend, message = outcome.failures[0]
    assert backend == "wikipedia"
    assert "HTTP 500" in message
    assert searches(wiki) == 2  # first try + one retry
    assert len(sleep.delays) == 1
    assert 0.0 <= sleep.delays[0] <= 0.2  # full jitter under the 0.2 s first ceiling


def test_timeout_is_retried_then_reported(wiki: WikipediaStub, tavily: TavilyStub) -> None:
    wiki.mode = "stall"
    backends = [
        WikipediaRetriever(api_url=wiki.api_url, timeout=0.3),
        TavilyRetriever(DEFAULT_API_KEY, timeout=2.0, base_url=tavily.base_url),
    ]

    outcome = MultiRetriever(backends, retries=1, sleep=SleepRecorder()).search("Paris", 2)

    assert [p.backend for p in outcome.passages] == ["tavily"]
    assert outcome.failures[0][0] == "wikipedia"
    assert "did not answer within 0.3 s" in outcome.failures[0][1]


def test_permanent_error_is_not_retried(wiki: WikipediaStub) -> None:
    with TavilyStub(api_key="tvly-the-right-key") as tavily:
        sleep = SleepRecorder()
        outcome = combined(wiki, tavily, sleep).search("Paris", 2)

        assert len(tavily.requests) == 1
    assert sleep.delays == []
    assert [p.backend for p in outcome.passages] == ["wikipedia"]
    assert outcome.failures[0][0] == "tavily"
    assert "401" in outcome.failures[0][1]


def test_rate_limit_waits_the_servers_retry_after_when_short(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    tavily.mode = "rate_limited"
    tavily.retry_after = "1"
    sleep = SleepRecorder()

    outcome = combined(wiki, tavily, sleep).search("Paris", 2)

    assert sleep.delays == [1.0]
    assert len(tavily.requests) == 2
    assert outcome.failures[0][0] == "tavily"


def test_rate_limit_with_a_long_retry_after_is_reported_without_waiting(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    tavily.mode = "rate_limited"
    tavily.retry_after = "30"
    sleep = SleepRecorder()

    outcome = combined(wiki, tavily, sleep).search("Paris", 2)

    assert sleep.delays == []
    assert len(tavily.requests) == 1
    assert "retry after 30 s" in outcome.failures[0][1]


def test_all_backends_down_gives_no_passages_and_every_failure(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    wiki.mode = "error500"
    tavily.mode = "error500"

    outcome = combined(wiki, tavily, SleepRecorder()).search("Paris", 2)

    assert outcome.passages == []
    assert [name for name, _ in outcome.failures] == ["wikipedia", "tavily"]


def test_stop_at_first_skips_later_backends_once_one_found_something(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    outcome = combined(wiki, tavily, SleepRecorder(), stop_at_first=True).search("Paris", 2)

    assert [p.backend for p in outcome.passages] == ["wikipedia"]
    assert tavily.requests == []


def test_stop_at_first_goes_on_when_the_first_backend_finds_nothing(
    wiki: WikipediaStub, tavily: TavilyStub
) -> None:
    retriever = combined(wiki, tavily, SleepRecorder(), stop_at_first=True)
    tavily_only_answer = retriever.search("xylophone", 2)

    assert tavily_only_answer.passages == []
    assert len(tavily.requests) == 1


# -- merging and validation, with in-process fakes --------------------------------------------


@dataclass
class FakeRetriever:
    name: str
    passages: list[Passage] = field(default_factory=list)
    errors: list[RetrievalError] = field(default_factory=list)
    calls: int = 0

    def search(self, query: str, k: int) -> list[Passage]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.passages[:k]


def passage(source: str, score: float, backend: str) -> Passage:
    return Passage(
        title=source, text=f"text of {source}", source=source, score=score, backend=backend
    )


def test_duplicates_from_later_backends_are_dropped_and_each_backend_is_sorted_by_score() -> None:
    first = FakeRetriever("a", [passage("x", 0.2, "a"), passage("y", 0.9, "a")])
    second = FakeRetriever("b", [passage("y", 5.0, "b"), passage("z", 1.0, "b")])

    outcome = MultiRetriever([first, second]).search("q", 5)

    assert [(p.backend, p.source) for p in outcome.passages] == [("a", "y"), ("a", "x"), ("b", "z")]


def test_a_transient_failure_that_recovers_on_retry_is_not_reported() -> None:
    flaky = FakeRetriever(
        "flaky", [passage("x", 1.0, "flaky")], errors=[BackendUnavailable("down", backend="flaky")]
    )
    sleep = SleepRecorder()

    outcome = MultiRetriever([flaky], retries=2, backoff=0.1, sleep=sleep).search("q", 3)

    assert [p.source for p in outcome.passages] == ["x"]
    assert outcome.failures == []
    assert flaky.calls == 2


def dead_backend() -> FakeRetriever:
    errors: list[RetrievalError] = [BackendUnavailable("down", backend="dead") for _ in range(10)]
    return FakeRetriever("dead", errors=errors)


def test_retries_are_bounded_and_back_off_exponentially(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # each ceiling, exactly
    dead, sleep = dead_backend(), SleepRecorder()

    outcome = MultiRetriever([dead], retries=3, backoff=0.1, max_delay=10, sleep=sleep).search(
        "q", 3
    )

    assert dead.calls == 4
    assert sleep.delays == pytest.approx([0.1, 0.2, 0.4])
    assert outcome.failures == [("dead", "down")]


def test_retry_waits_are_jittered_below_their_ceiling_and_capped() -> None:
    dead, sleep = dead_backend(), SleepRecorder()

    MultiRetriever([dead], retries=5, backoff=0.1, max_delay=0.3, sleep=sleep).search("q", 3)

    assert len(sleep.delays) == 5
    for attempt, delay in enumerate(sleep.delays):
        assert 0.0 <= delay <= min(0.1 * 2**attempt, 0.3)


def test_rate_limit_without_retry_after_uses_the_backoff() -> None:
    limited = FakeRetriever("limited", errors=[RateLimited("slow down", backend="limited")])
    sleep = SleepRecorder()

    MultiRetriever([limited], retries=1, backoff=0.2, sleep=sleep).search("q", 3)

    assert len(sleep.delays) == 1
    assert 0.0 <= sleep.delays[0] <= 0.2


def test_rate_limit_retry_after_is_honoured_over_a_shorter_draw() -> None:
    limited = FakeRetriever(
        "limited", errors=[RateLimited("slow down", backend="limited", retry_after=1.5)]
    )
    sleep = SleepRecorder()

    MultiRetriever([limited], retries=1, backoff=0.1, sleep=sleep).search("q", 3)

    assert sleep.delays == [1.5]  # the draw is at most 0.1 s; the server asked for 1.5 s


def test_bad_configuration_and_input_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="No search backend"):
        MultiRetriever([])
    with pytest.raises(ConfigurationError, match="configured twice"):
        MultiRetriever([FakeRetriever("a"), FakeRetriever("a")])
    with pytest.raises(ValueError, match="retries"):
        MultiRetriever([FakeRetriever("a")], retries=99)
    with pytest.raises(InputError, match="empty"):
        MultiRetriever([FakeRetriever("a")]).search("   ", 3)
