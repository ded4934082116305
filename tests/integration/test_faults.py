"""Fault injection through the real Gemini client: the app must end every request well.

Each test runs :class:`crossroads.Crossroads` with ``model="google_genai:gemini-2.5-flash"``,
so every model call goes through the real ``ChatGoogleGenerativeAI`` client and the
``google-genai`` SDK to the Gemini stub on 127.0.0.1. The stub's *responder* plays the model
(it recognises the router, calculator and writers' requests by their prompt or schema) and a
fault plan in front of it injects 429s, 503 storms, hangs, dropped connections and garbled
replies. What is checked is behaviour, read from the stub's recorded requests and the
``Result``: the wait before a retry honoured the server's delay, a failing model fell back to
the next one, a hang ended with a clear error inside the budget, an endless critic was stopped,
and many concurrent requests kept their threads apart.

Crossroads switches the client's own retries off (``max_retries=0``); the retries seen here
are the app's (``Settings.model_retries``), see :mod:`crossroads.llm` and :mod:`crossroads.retry`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import aiohttp
import pytest
import requests

from crossroads import Crossroads, Result
from crossroads.agents.calculator_prompts import EXTRACT_SYSTEM, PHRASE_SYSTEM
from crossroads.agents.router import FELL_BACK
from crossroads.agents.writers_prompts import WRITER_SYSTEM
from crossroads.graphs.builtin_agents import FACT, MATH, NONE
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.retry import is_transient, node_retry_policy
from crossroads.settings import ROLES, Settings
from crossroads.tools.retrievers import Passage
from tests.helpers import echo_specs
from tests.stubs.gemini_stub import (
    DropConnection,
    GeminiStub,
    Hang,
    MalformedJson,
    RateLimited,
    RecordedRequest,
    ServerFailure,
    StructuredReply,
    StubAction,
    TextReply,
)

pytestmark = pytest.mark.integration

FLASH = "google_genai:gemini-2.5-flash"
FLASH_LITE = "google_genai:gemini-2.5-flash-lite"
APPLES = "I had {n} apples and ate 4 of them. How many apples are left?"
# Prompt openings that tell the calculator's two calls apart (placeholders come later).
EXTRACT_MARK = EXTRACT_SYSTEM[:40]
PHRASE_MARK = PHRASE_SYSTEM[:40]
WRITER_MARK = WRITER_SYSTEM[:40]
NUMBER = re.compile(r"\d+")
RESULT_TAG = re.compile(r"<result>(.*?)</result>", re.DOTALL)
QUESTION_TAG = re.compile(r"<question>(.*?)</question>", re.DOTALL)


# --------------------------------------------------------------------------- the scripted model


def schema_title(request: RecordedRequest) -> str | None:
    """Title of the JSON schema a structured-output request asked for, if any."""
    schema = request.generation_config.get("responseJsonSchema")
    title = schema.get("title") if isinstance(schema, Mapping) else None
    return title if isinstance(title, str) else None


def model_of(route: str = "math", *, critic: str = "approve") -> Callable[..., StubAction | None]:
    """A responder that plays a sensible model for the router, calculator and writers.

    The calculator's extraction echoes the first number of the question, so concurrent
    requests get answers that say which question they answered.
    """

    def respond(request: RecordedRequest) -> StubAction | None:
        title = schema_title(request)
        if title == "RouteChoice":
            return StructuredReply({"route": route, "reason": "scripted"})
        if title == "Verdict":
            issues = [] if critic == "approve" else ["make the rain heavier"]
            return StructuredReply({"verdict": critic, "issues": issues})
        if request.system_text.startswith(EXTRACT_MARK):
            asked = QUESTION_TAG.search(request.last_user_text)
            numbers = NUMBER.findall(asked.group(1) if asked else "")
            return TextReply(f"{numbers[0]} - 4" if numbers else "NOT MATH")
        if request.system_text.startswith(PHRASE_MARK):
            found = RESULT_TAG.search(request.last_user_text)
            return TextReply(f"You have {found.group(1) if found else '?'} apples left.")
        if request.system_text.startswith(WRITER_MARK):
            return TextReply("Rain taps the roof,\nslow and soft,\nand the street shines.")
        return None

    return respond


class FaultPlan:
    """Faults served, in order, to the requests that ``target`` selects; then the model answers.

    Args:
        model: The responder that plays the model once the faults are used up.
        faults: Actions for the first matching requests, one each.
        target: Which requests the faults apply to (default: every request).
        always: A fault for every matching request, forever (after ``faults``).
    """

    def __init__(
        self,
        model: Callable[[RecordedRequest], StubAction | None],
        faults: Sequence[StubAction] = (),
        *,
        target: Callable[[RecordedRequest], bool] = lambda request: True,
        always: StubAction | None = None,
    ) -> None:
        self.model = model
        self.faults: deque[StubAction] = deque(faults)
        self.target = target
        self.always = always
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> StubAction | None:
        if self.target(request):
            with self._lock:
                if self.faults:
                    return self.faults.popleft()
            if self.always is not None:
                return self.always
        return self.model(request)


def is_router(request: RecordedRequest) -> bool:
    return schema_title(request) == "RouteChoice"


@pytest.fixture
def stub() -> Iterator[GeminiStub]:
    with GeminiStub() as running:
        yield running


@pytest.fixture
def gemini_app(stub: GeminiStub) -> Iterator[Callable[..., Crossroads]]:
    """``gemini_app(**settings)``: a Crossroads on the real Gemini client, pointed at the stub."""
    apps: list[Crossroads] = []

    def make(**overrides: Any) -> Crossroads:
        overrides.setdefault("model", FLASH)
        overrides.setdefault("checkpointer", "memory")
        overrides.setdefault("router_threshold", 1.01)  # the LLM router always runs
        overrides.setdefault("request_timeout", 5.0)
        app = Crossroads(
            google_api_key="test", model_kwargs={"base_url": stub.base_url}, **overrides
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def models_asked(stub: GeminiStub) -> list[str]:
    return [request.model for request in stub.requests]


# --------------------------------------------------------------------------- happy path


def test_the_real_client_answers_through_the_stub(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = model_of("math")
    result = gemini_app().ask(APPLES.format(n=10))
    assert result.error is None
    assert result.route == "math"
    assert result.answer == "You have 6 apples left."
    assert result.usage["llm_calls"] == 3  # router, extract, phrase
    assert len(stub.requests) == 3


# --------------------------------------------------------------------------- rate limits


@pytest.mark.parametrize(
    ("fault", "asked_wait_s"),
    [
        pytest.param(RateLimited(retry_delay="1s", retry_after_header="1"), 1.0, id="both-hints"),
        pytest.param(RateLimited(retry_delay="1.5s", retry_after_header=None), 1.5, id="retryinfo"),
    ],
)
def test_a_rate_limit_is_retried_after_the_delay_the_server_asked_for(
    stub: GeminiStub,
    gemini_app: Callable[..., Crossroads],
    fault: RateLimited,
    asked_wait_s: float,
) -> None:
    stub.responder = FaultPlan(model_of("math"), [fault])
    result = gemini_app(model_retries=2).ask(APPLES.format(n=10))

    assert result.error is None
    assert result.answer == "You have 6 apples left."
    first, second, *rest = stub.requests
    assert is_router(first) and is_router(second)
    # The backoff draw alone is at most 0.5 s before the first retry; the hint must win.
    assert second.received_at - first.received_at >= asked_wait_s - 0.05
    assert len(rest) == 2  # extract and phrase, no extra attempts
    assert result.usage["by_node"]["router"]["llm_calls"] == 2  # the 429 attempt counts


def test_a_rate_limit_longer_than_the_budget_ends_the_request_instead_of_sleeping(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = FaultPlan(
        model_of("math"), [RateLimited(retry_delay="60s", retry_after_header="60")]
    )
    started = time.monotonic()
    result = gemini_app(model_retries=2, max_seconds=5.0).ask(APPLES.format(n=10))
    elapsed = time.monotonic() - started

    assert result.error is not None
    assert "rate limit or quota is used up" in result.error
    assert "the router model" in result.error and "RESOURCE_EXHAUSTED" in result.error
    assert len(stub.requests) == 1  # no retry that the budget could not wait for
    assert elapsed < 5.0


def test_a_rate_limit_longer_than_any_retry_wait_moves_on_to_the_fallback_at_once(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    # 30 s is inside the budget but beyond the longest retry wait: retrying earlier than the
    # provider asked would only fail again, so the next model is tried straight away.
    stub.responder = FaultPlan(
        model_of("math"), [RateLimited(retry_delay="30s", retry_after_header="30")]
    )
    started = time.monotonic()
    result = gemini_app(model_retries=2, fallback_models=(FLASH_LITE,)).ask(APPLES.format(n=10))
    elapsed = time.monotonic() - started

    assert result.error is None
    assert models_asked(stub)[:2] == ["gemini-2.5-flash", "gemini-2.5-flash-lite"]
    assert elapsed < 10.0  # no 20 s capped wait


# --------------------------------------------------------------------------- fallbacks


@pytest.mark.parametrize("configured_as", ["fallback_models", "role_models"])
def test_a_storm_of_503s_on_one_model_falls_back_to_the_next(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads], configured_as: str
) -> None:
    model = model_of("math")
    stub.responder = FaultPlan(
        model,
        target=lambda request: request.model == "gemini-2.5-flash",
        always=ServerFailure(503),
    )
    if configured_as == "fallback_models":
        settings: dict[str, Any] = {"fallback_models": (FLASH_LITE,)}
    else:
        settings = {"role_models": {role: (FLASH, FLASH_LITE) for role in ROLES}}
    result = gemini_app(model_retries=1, **settings).ask(APPLES.format(n=10))

    assert result.error is None
    assert result.answer == "You have 6 apples left."
    # Each of the 3 calls: flash twice (a try and a retry, both 503), then flash-lite.
    assert (
        models_asked(stub) == ["gemini-2.5-flash", "gemini-2.5-flash", "gemini-2.5-flash-lite"] * 3
    )
    assert result.usage["llm_calls"] == 9


def test_when_every_model_fails_the_error_names_them_all(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = FaultPlan(model_of("math"), always=ServerFailure(503))
    result = gemini_app(model_retries=0, fallback_models=(FLASH_LITE,)).ask(APPLES.format(n=10))

    assert result.error is not None
    assert "the model server failed (server error)" in result.error
    assert f"the router model; tried: {FLASH}, {FLASH_LITE}" in result.error
    assert result.answer  # an honest sentence, never empty
    assert models_asked(stub) == ["gemini-2.5-flash", "gemini-2.5-flash-lite"]


# --------------------------------------------------------------------------- hangs and drops


def test_a_request_that_failed_before_answering_keeps_its_turn_in_the_thread(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    # The router fails for good, so the request ends before ``respond``; the question and
    # the sentence the user got must still be stored, and the next turn must see them.
    stub.responder = FaultPlan(model_of("math"), [ServerFailure(503)])
    app = gemini_app(model_retries=0)
    failed = app.ask(APPLES.format(n=10), thread_id="kept")
    assert failed.error is not None and "the router model" in failed.error

    answered = app.ask(APPLES.format(n=20), thread_id="kept")

    assert answered.error is None
    assert app.history("kept") == [
        ("you", APPLES.format(n=10)),
        ("assistant", failed.answer),
        ("you", APPLES.format(n=20)),
        ("math", "You have 16 apples left."),
    ]
    next_router_prompt = [request for request in stub.requests if is_router(request)][-1]
    assert failed.answer[:40] in next_router_prompt.prompt_text


def test_a_hanging_model_times_out_with_a_clear_error_within_the_budget(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = FaultPlan(model_of("math"), always=Hang(seconds=30))
    started = time.monotonic()
    result = gemini_app(request_timeout=0.5, model_retries=1, max_seconds=10.0).ask(
        APPLES.format(n=10)
    )
    elapsed = time.monotonic() - started

    assert result.error is not None
    assert "sent nothing within 0.5 s (first_byte_timeout)" in result.error
    assert result.answer
    # One try, cut at the timeout, and no retry on the same model: a server that is still
    # generating the first reply would only queue a second one behind it.
    assert len(stub.requests) == 1
    assert elapsed < 10.0


def test_a_hang_longer_than_the_budget_ends_at_max_seconds(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    # The request timeout alone would wait 30 s; the wall-time budget cuts it at 1.5 s.
    stub.responder = FaultPlan(model_of("math"), always=Hang(seconds=30))
    started = time.monotonic()
    result = gemini_app(request_timeout=30.0, max_seconds=1.5).ask(APPLES.format(n=10))
    elapsed = time.monotonic() - started

    assert result.error is not None and "max_seconds" in result.error
    assert len(stub.requests) == 1
    assert elapsed < 1.5 + 3.0  # generous margin for a busy machine


def test_a_hang_in_the_middle_keeps_the_work_done_before_it(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    # Router and extraction answer; the phrasing call hangs until the budget is spent, and
    # the calculator falls back to its template with the value it already computed.
    stub.responder = FaultPlan(
        model_of("math"),
        target=lambda request: request.system_text.startswith(PHRASE_MARK),
        always=Hang(seconds=30),
    )
    started = time.monotonic()
    result = gemini_app(request_timeout=30.0, max_seconds=2.0).ask(APPLES.format(n=10))
    elapsed = time.monotonic() - started

    assert result.route == "math"
    assert result.answer == "10 - 4 = 6."
    (phrase,) = [step["detail"] for step in result.steps if step["action"] == "phrase"]
    assert phrase["check"] == "template"
    assert "max_seconds" in phrase["why"]
    assert elapsed < 2.0 + 3.0


def test_a_dropped_connection_is_retried(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = FaultPlan(model_of("math"), [DropConnection()])
    result = gemini_app(model_retries=1).ask(APPLES.format(n=10))

    assert result.error is None
    assert result.answer == "You have 6 apples left."
    assert len(stub.requests) == 4  # the dropped router call, its retry, extract, phrase


# --------------------------------------------------------------------------- malformed output


def test_malformed_router_output_is_retried_once_then_falls_back_to_none(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    # 200 OK with JSON mode honoured on the wire, but the text is not the schema.
    stub.responder = FaultPlan(
        model_of("math"),
        [TextReply('{"route": "maths", "reason'), TextReply("I would rather not say.")],
        target=is_router,
    )
    result = gemini_app(agents=echo_specs()).ask("tell me something nice")

    assert result.error is None
    assert result.route == "none"
    assert result.answer == "none: tell me something nice"
    router_calls = [request for request in stub.requests if is_router(request)]
    assert len(router_calls) == 2
    assert "could not be used" in router_calls[1].prompt_text  # the error went back
    (route_step,) = [step for step in result.steps if step["action"] == "route"]
    assert route_step["detail"]["decided_by"] == "fallback"
    assert route_step["detail"]["reason"].startswith(FELL_BACK.split("(")[0])


def test_a_garbled_http_body_is_a_clear_error_not_a_crash(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = FaultPlan(model_of("math"), always=MalformedJson())
    result = gemini_app(agents=echo_specs(), model_retries=2).ask("tell me something nice")

    assert result.error is not None and "could not be read" in result.error
    assert len(stub.requests) == 1  # not transient: no retry on the same model


# --------------------------------------------------------------------------- endless loops


def test_an_endless_critic_is_stopped_by_the_revision_limit(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = model_of("none", critic="revise")
    result = gemini_app(max_part_revisions=2).ask("Write a short poem about rain")

    assert result.error is None
    assert result.route == "none"
    assert "Rain taps the roof" in result.answer
    assert "open issues after 2 revision(s)" in result.answer
    critic_calls = [request for request in stub.requests if schema_title(request) == "Verdict"]
    assert len(critic_calls) == 3  # the first draft and two revisions


def test_an_endless_critic_is_stopped_by_the_call_budget_with_the_best_draft(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = model_of("none", critic="revise")
    app = gemini_app(max_part_revisions=1_000, max_llm_calls=7)
    result = app.ask("Write a short poem about rain")

    assert result.error is not None and "max_llm_calls" in result.error
    assert result.usage["llm_calls"] == 7
    assert len(stub.requests) == 7  # router + three writer ⇄ critic rounds
    assert "Rain taps the roof" in result.answer  # the best draft so far
    assert "Writing stopped early" in result.answer


# --------------------------------------------------------------------------- node retry policy


class FlakyRetriever:
    """A custom retriever doing real HTTP with ``requests``, failing like a real network.

    The first ``failures`` searches connect to a closed loopback port, so ``requests`` raises
    its own ``ConnectionError`` (the kind LangGraph's default ``retry_on`` does not retry, and
    which the built-in backends would have wrapped in a ``RetrievalError``).
    """

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self._lock = threading.Lock()

    def search(self, query: str, k: int) -> list[Passage]:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            requests.get(f"http://127.0.0.1:{closed_port()}/search", timeout=2)
        return [
            Passage(
                title="Rain",
                text="Rain is water falling from clouds.",
                source="https://example.org/rain",
                score=1.0,
                backend=self.name,
            )
        ]


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def researcher_on(retriever: FlakyRetriever) -> list[Any]:
    fact = dataclasses.replace(
        FACT, build=partial(build_researcher_graph, search_factory=lambda settings: retriever)
    )
    return [MATH, fact, NONE]


def research_model(request: RecordedRequest) -> StubAction | None:
    title = schema_title(request)
    if title == "RouteChoice":
        return StructuredReply({"route": "fact", "reason": "scripted"})
    if title == "SearchQuery":
        return StructuredReply({"query": "rain"})
    if title == "RelevantPassages":
        return StructuredReply({"relevant": [1]})
    return TextReply("Rain is water falling from clouds [1].")


def test_node_retry_policy_retries_only_transient_failures_within_bounds() -> None:
    policy = node_retry_policy(Settings(model_retries=2))
    assert policy.max_attempts == 3
    assert node_retry_policy(Settings(model_retries=0)).max_attempts == 1
    assert node_retry_policy(Settings(model_retries=50)).max_attempts == 4
    assert policy.retry_on is is_transient
    try:
        requests.get(f"http://127.0.0.1:{closed_port()}/", timeout=2)
    except requests.ConnectionError as refused:
        assert is_transient(refused)
    assert not is_transient(ValueError("a bug"))


def test_a_transient_error_from_a_custom_retriever_is_retried_by_the_node_policy(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = research_model
    retriever = FlakyRetriever(failures=1)
    result = gemini_app(agents=researcher_on(retriever), model_retries=1).ask("what is rain?")

    assert result.error is None
    assert result.route == "fact"
    assert retriever.calls == 2  # refused once, retried by the retrieve node's policy
    assert "Rain is water" in result.answer
    assert result.sources and result.sources[0]["url"] == "https://example.org/rain"


def test_a_custom_retriever_that_stays_down_ends_with_a_clear_error(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = research_model
    retriever = FlakyRetriever(failures=100)
    result = gemini_app(agents=researcher_on(retriever), model_retries=1).ask("what is rain?")

    # The graph was built with the default policy (a run's settings cannot change it).
    assert retriever.calls == node_retry_policy().max_attempts == 3
    assert result.error is not None
    assert result.error.startswith("stopped: a service this request needed kept failing")
    assert "ConnectionError" in result.error
    assert result.answer


class BrokenRetriever:
    """A custom retriever with a bug: a bug is not retried and is not hidden."""

    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def search(self, query: str, k: int) -> list[Passage]:
        self.calls += 1
        raise KeyError("hits")


def test_a_bug_in_a_custom_retriever_is_neither_retried_nor_hidden(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = research_model
    retriever = BrokenRetriever()
    fact = dataclasses.replace(
        FACT, build=partial(build_researcher_graph, search_factory=lambda settings: retriever)
    )
    app = gemini_app(agents=[MATH, fact, NONE])
    with pytest.raises(KeyError, match="hits"):
        app.ask("what is rain?")
    assert retriever.calls == 1


# --------------------------------------------------------------------------- concurrency


async def test_many_concurrent_requests_keep_their_threads_apart(
    stub: GeminiStub, gemini_app: Callable[..., Crossroads]
) -> None:
    stub.responder = model_of("math")
    app = gemini_app()
    count = 40

    results: list[Result] = await asyncio.gather(
        *(app.aask(APPLES.format(n=100 + i), thread_id=f"t{i}") for i in range(count))
    )

    for i, result in enumerate(results):
        assert result.error is None, result.error
        assert result.thread_id == f"t{i}"
        assert result.answer == f"You have {100 + i - 4} apples left."
        assert result.usage["llm_calls"] == 3  # usage is per request, not shared
    for i in (0, count // 2, count - 1):
        assert app.history(f"t{i}") == [
            ("you", APPLES.format(n=100 + i)),
            ("math", f"You have {100 + i - 4} apples left."),
        ]
    assert len(stub.requests) == 3 * count


async def test_the_stub_accepts_a_burst_of_concurrent_connections(stub: GeminiStub) -> None:
    # The load test opens many connections at once; a listen backlog of 5 (socketserver's
    # default) made the kernel reset them, which retries then hid as "transient" faults.
    stub.default = TextReply("ok")
    url = f"{stub.base_url}/v1beta/models/gemini-2.5-flash:generateContent"
    burst = 300

    async def post(session: aiohttp.ClientSession) -> int:
        async with session.post(url, json={"contents": []}) as response:
            await response.read()
            return response.status

    connector = aiohttp.TCPConnector(limit=0)  # one connection per request, all at once
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        statuses = await asyncio.gather(*(post(session) for _ in range(burst)))

    assert statuses == [200] * burst
    assert stub.request_count == burst
