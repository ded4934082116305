"""Finding 11 of the attack review: threads on a server belong to the user who made them.

Replayed against a real ``langgraph dev`` that loads the ``auth`` hook of ``langgraph.json``
with two users' tokens: a client without a token, and one user against the other's thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import APIStatusError

from tests.stubs.langgraph_dev import LANGGRAPH_CLI, DevServerError, langgraph_dev

REFUSED = (APIStatusError, httpx.HTTPStatusError)
"""What the SDK raises for a 4xx answer (runs.wait raises httpx's own)."""
STARTUP_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 60.0
ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not LANGGRAPH_CLI.exists():
        pytest.fail(f"{LANGGRAPH_CLI} is missing: pip install 'crossroads[server]'")
    try:
        with langgraph_dev(
            tmp_path_factory.mktemp("langgraph-dev-auth"),
            startup_timeout=STARTUP_TIMEOUT_S,
            env={"CROSSROADS_SERVER_TOKENS": f"alice={ALICE},bob={BOB}"},
        ) as url:
            yield url
    except DevServerError as error:
        pytest.fail(str(error))


def _client(url: str, token: str | None) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return get_client(url=url, timeout=RUN_TIMEOUT_S, headers=headers)


@pytest.mark.integration
async def test_a_request_without_a_valid_token_is_refused(server: str) -> None:
    for token in (None, "wrong-token-0123456789abcdef"):
        client = _client(server, token)
        with pytest.raises(APIStatusError) as caught:
            await client.threads.search()  # type: ignore[attr-defined]
        assert caught.value.status_code in (401, 403)


@pytest.mark.integration
async def test_a_user_sees_and_runs_only_their_own_threads(server: str) -> None:
    alice, bob = _client(server, ALICE), _client(server, BOB)
    thread = await alice.threads.create()  # type: ignore[attr-defined]
    result = await alice.runs.wait(  # type: ignore[attr-defined]
        thread["thread_id"], "crossroads", input={"question": "What is 15% of 240?"}
    )
    assert re.search(r"\b36\b", result["answer"]), result

    bobs_view = await bob.threads.search(limit=100)  # type: ignore[attr-defined]
    assert thread["thread_id"] not in {t["thread_id"] for t in bobs_view}
    with pytest.raises(APIStatusError) as caught:
        await bob.threads.get_state(thread["thread_id"])  # type: ignore[attr-defined]
    assert caught.value.status_code in (403, 404)
    with pytest.raises(REFUSED):
        await bob.runs.wait(  # type: ignore[attr-defined]
            thread["thread_id"], "crossroads", input={"question": "What is 1 + 1?"}
        )
    alices_view = await alice.threads.search(limit=100)  # type: ignore[attr-defined]
    assert thread["thread_id"] in {t["thread_id"] for t in alices_view}


@pytest.mark.integration
async def test_no_user_can_change_the_default_assistant(server: str) -> None:
    bob = _client(server, BOB)
    assistants = await bob.assistants.search(graph_id="crossroads", limit=5)  # type: ignore[attr-defined]
    default = assistants[0]["assistant_id"]
    with pytest.raises(REFUSED):
        await bob.assistants.update(default, context={"max_llm_calls": 1})  # type: ignore[attr-defined]
