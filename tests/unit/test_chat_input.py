"""Chat-style input (``{"messages": [...]}``, as agent-chat-ui sends it) next to ``question``."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from crossroads.graphs.app import NO_INPUT, build_app_graph, chat_footer
from crossroads.settings import Settings
from tests.helpers import echo_specs


def _graph(agents: Any = None) -> Any:
    return build_app_graph(agents=agents).compile(checkpointer=InMemorySaver())


async def _ask(graph: Any, payload: dict[str, Any], thread: str) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread}}
    return dict(await graph.ainvoke(payload, config, context=Settings(offline=True)))


def _human(text: Any, id: str) -> dict[str, Any]:
    return {"type": "human", "content": text, "id": id}


async def test_messages_input_answers_the_last_human_message_and_follow_ups_work() -> None:
    graph = _graph()
    first = await _ask(graph, {"messages": [_human("12 * 7", "u1")]}, "t")
    assert first["answer"].startswith("12 * 7 = 84") and first["route"] == "math"
    reply = first["messages"][-1]
    assert isinstance(reply, AIMessage) and reply.name == "math"
    assert reply.content.startswith(first["answer"]) and "*route: math*" in reply.content
    assert reply.response_metadata["crossroads"]["route"] == "math"

    # The UI sends content blocks; the follow-up is answered from the thread's history.
    blocks = [{"type": "text", "text": "and divided by 4?"}]
    second = await _ask(graph, {"messages": [_human(blocks, "u2")]}, "t")
    assert second["answer"].startswith("84 / 4 = 21"), second["answer"]
    kinds = [(m.type, m.content if m.type == "human" else "") for m in second["messages"]]
    assert kinds == [
        ("human", "12 * 7"),
        ("ai", ""),
        ("human", "and divided by 4?"),  # stored as plain text, same id
        ("ai", ""),
    ]
    assert second["messages"][2].id == "u2"


async def test_earlier_messages_of_the_input_are_history() -> None:
    seen: list[list[str]] = []
    specs = echo_specs()
    graph = _graph(specs)
    payload = {
        "messages": [
            HumanMessage("hello", id="a"),
            AIMessage("hi", id="b"),
            HumanMessage("What is 2 + 2?", id="c"),
        ]
    }
    out = await _ask(graph, payload, "h")
    seen.append([m.content for m in out["messages"]])
    assert out["answer"] == "math: What is 2 + 2?"
    assert seen[0][:3] == ["hello", "hi", "What is 2 + 2?"]


async def test_question_input_still_works_and_its_reply_is_the_plain_answer() -> None:
    graph = _graph(echo_specs())
    out = await _ask(graph, {"question": "What is 2 + 2?"}, "q")
    assert out["answer"] == "math: What is 2 + 2?"
    assert out["messages"][-1].content == out["answer"]
    # A chat turn after a question turn is taken from the messages, not the old question.
    chat = await _ask(graph, {"messages": [_human("What is 3 + 3?", "m")]}, "q")
    assert chat["answer"] == "math: What is 3 + 3?"


async def test_input_with_neither_key_is_a_clear_error_naming_both() -> None:
    graph = _graph(echo_specs())
    out = await _ask(graph, {"q": "2+2"}, "n")  # type: ignore[dict-item]
    assert out["error"] == NO_INPUT and '"question"' in NO_INPUT and '"messages"' in NO_INPUT
    assert NO_INPUT in out["answer"] and not out.get("route")

    # On a thread that already has turns, a keyless input does not re-answer the last question.
    await _ask(graph, {"question": "What is 2 + 2?"}, "n2")
    again = await _ask(graph, {}, "n2")
    assert again["error"] == NO_INPUT
    # A chat turn that ends with the assistant's message is not a question either.
    ai_last = await _ask(graph, {"messages": [{"type": "ai", "content": "hi"}]}, "n3")
    assert ai_last["error"] == NO_INPUT


async def test_an_empty_chat_turn_is_answered_with_the_error_as_a_message() -> None:
    graph = _graph(echo_specs())
    out = await _ask(graph, {"messages": [_human("   ", "e")]}, "e")
    assert "the question is empty" in out["error"]
    assert isinstance(out["messages"][-1], AIMessage)
    assert "the question is empty" in out["messages"][-1].content


def test_footer_lists_sources_with_markdown_escaped() -> None:
    sources = [
        {
            "index": 1,
            "title": "Evil ![x](http://e/x.png) [a]",
            "url": "http://e/`p`",
            "backend": "w",
        },
        {"index": 2, "title": "notes", "url": "", "backend": "local"},
    ]
    footer = chat_footer("fact", sources)  # type: ignore[arg-type]
    assert "*route: fact*" in footer
    assert r"[1] Evil \!\[x\]\(http://e/x.png\) \[a\] · `http://e/p`" in footer
    assert footer.rstrip().endswith("[2] notes")


def test_a_request_that_failed_does_not_leave_its_question_for_the_next_input(
    make_app: Any,
) -> None:
    import asyncio

    from crossroads.testing import ScriptedChatModel

    model = ScriptedChatModel(by_role={"router": [ValueError("provider said no")]})
    app = make_app(model, model_retries=0, agents=echo_specs())
    # Not a bare expression: those reach the calculator with no router model call.
    failed = app.ask("What is the capital of France?", thread_id="f")
    assert failed.error and "provider said no" in failed.error

    async def keyless() -> dict[str, Any]:
        config = {"configurable": {"thread_id": "f"}}
        return dict(await app.graph.ainvoke({}, config, context=app.settings))

    assert asyncio.run(keyless())["error"] == NO_INPUT


async def test_a_chat_turn_with_only_an_image_says_so() -> None:
    """agent-chat-ui can send an image alone; the reply said "type a question, e.g.
    crossroads ask ..." as if the user had sent nothing, on the command line."""
    graph = _graph(echo_specs())
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    out = await _ask(graph, {"messages": [_human([image], "i")]}, "i")
    assert out["error"] == (
        "the question is empty: the message holds only 'image_url' content, and Crossroads "
        "reads text; type the question"
    )
    assert out["error"] in out["messages"][-1].content
