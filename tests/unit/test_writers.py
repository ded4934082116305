"""The writing team end to end with a scripted model: story, haiku, limits, review, streaming."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from crossroads import Crossroads, Settings
from crossroads.agents.writers import OFFLINE_ANSWER, OFFLINE_MODE_ANSWER, REVIEW_STOPPED
from crossroads.graphs.writers import build_writers_graph
from crossroads.testing import ScriptedChatModel

STORY_REQUEST = "Write a story in three parts about a lighthouse keeper"

PLAN: dict[str, Any] = {
    "title": "The Keeper of Eldmoor",
    "parts": [
        {
            "title": "Storm",
            "goal": "Mira lights the lamp as Tom rows into the storm.",
            "target_words": 50,
        },
        {
            "title": "Shore",
            "goal": "Mira finds Tom on the shore and brings him home.",
            "target_words": 50,
        },
        {
            "title": "Sunset",
            "goal": "Tom thanks Mira; the lamp never goes dark.",
            "target_words": 50,
        },
    ],
    "bible": {
        "characters": [
            {"name": "Mira", "traits": ["lighthouse keeper"]},
            {"name": "Tom", "traits": ["fisherman"]},
        ],
        "places": ["Eldmoor"],
        "facts": ["The lamp has never gone dark."],
        "style": "Third person, past tense.",
    },
}

PART_1 = (
    "Mira climbed the stairs of the old lighthouse in Eldmoor as the storm rolled in. She lit "
    "the great lamp and watched the dark water. Far below, Tom rowed his small boat toward the "
    "rocks, and Mira knew he would never see them in the rain."
)
PART_2_RENAMED = (
    "The next morning the sea was calm. Then Mara ran down to the shore and found the broken "
    "boat on the sand. Tom was cold but alive, and Mara wrapped him in her coat and helped him "
    "up the hill to the lighthouse."
)
PART_2 = PART_2_RENAMED.replace("Mara", "Mira")
PART_3 = (
    "By evening Tom could stand again. He thanked Mira for the light that had saved him, and "
    "together they climbed the stairs to watch the sun go down over Eldmoor. From that night "
    "on, the lamp never went dark."
)
SUMMARY_1 = "Mira lit the lamp during the storm while Tom rowed toward the rocks near Harbour Row."
SUMMARY_2 = "Mira found Tom alive on the shore and carried him to the lighthouse."

HAIKU = "Soft rain on the roof\nthe garden drinks in silence\npuddles hold the sky"
APPROVE = {"verdict": "approve", "issues": []}
ROUTE_NONE = {"route": "none", "reason": "a writing request"}


def update(summary: str, **added: Any) -> dict[str, Any]:
    return {"summary": summary, "new_characters": [], "new_places": [], "new_facts": [], **added}


def story_model(*, renamed: bool = True) -> ScriptedChatModel:
    """The 3-part story; with ``renamed`` the writer's part 2 first calls the hero 'Mara' and
    the scripted critic model approves it anyway."""
    writer = [PART_1, PART_2_RENAMED, PART_2, PART_3] if renamed else [PART_1, PART_2, PART_3]
    critic = [APPROVE] * (5 if renamed else 4)
    return ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE],
            "creative": ["A lighthouse keeper, Mira, saves a fisherman, Tom, in a storm."],
            "planner": [
                PLAN,
                update(SUMMARY_1, new_places=["Harbour Row"]),
                update(SUMMARY_2),
            ],
            "critic": critic,
            "writer": writer,
        }
    )


def critiques(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        step["detail"]
        for step in steps
        if step["agent"] == "writers" and step["action"] == "critique"
    ]


# --- the story: the critic's deterministic check catches a renamed hero --------------------


def test_renamed_hero_is_caught_by_check_names_and_revised(
    make_app: Callable[..., Crossroads],
) -> None:
    model = story_model()
    result = make_app(model).ask(STORY_REQUEST)

    assert result.error is None and result.route == "none"
    assert result.answer.startswith("# The Keeper of Eldmoor")
    for part in (PART_1, PART_2, PART_3):
        assert part in result.answer
    assert "Mara" not in result.answer

    part_2_first = critiques(result.steps)[2]
    assert part_2_first["target"] == "part 2" and part_2_first["draft"] == 1
    # The scripted critic model said "approve"; the code overrode it from check_names.
    assert part_2_first["model_verdict"] == "approve"
    assert part_2_first["verdict"] == "revise" and part_2_first["overridden"]
    errors = [f for f in part_2_first["findings"] if f["severity"] == "error"]
    assert [f["check"] for f in errors] == ["names"]
    assert "'Mara'" in errors[0]["message"]

    # The writer's revision call saw its own draft and the check's message.
    revision = model.calls_for("writer")[2].prompt
    assert PART_2_RENAMED in revision and "[names check]" in revision and "'Mara'" in revision
    # Each part starts a fresh writer conversation; shared memory carries the story on.
    part_3_prompt = model.calls_for("writer")[3].prompt
    assert PART_2_RENAMED not in part_3_prompt
    assert SUMMARY_1 in part_3_prompt and SUMMARY_2 in part_3_prompt
    assert "Harbour Row" in part_3_prompt  # the bible grew after part 1

    calls = {
        role: len(model.calls_for(role)) for role in ("creative", "planner", "critic", "writer")
    }
    assert calls == {"creative": 1, "planner": 3, "critic": 5, "writer": 4}
    assert result.usage["llm_calls"] == 1 + sum(calls.values())
    assert result.usage["by_node"]["writers.writer"]["llm_calls"] == 4


async def test_story_subgraph_runs_on_its_own() -> None:
    model = story_model(renamed=False)
    output = (
        await build_writers_graph()
        .compile()
        .ainvoke({"question": STORY_REQUEST, "messages": []}, context=Settings(model=model))
    )
    assert set(output) <= {"answer", "sources", "steps", "usage", "error", "handoff", "last_value"}
    assert PART_3 in output["answer"] and output.get("error") is None
    assert (
        output["usage"]["llm_calls"] == 1 + 3 + 4 + 3
    )  # creative, planner x3, critic x4, writer x3


# --- the revision limit: a stubborn loop keeps the best draft, with a note -----------------

GIBBERISH_4_LINES = (
    "Blorf zint quorple snib\nvantric moop glarfen drest\nxoth prindle wub\nfrantle gorp"
)
PLAIN_4_LINES = "Grey rain on the roof\nthe garden drinks in silence\npuddles hold the sky\nand the night is long"
GIBBERISH_2_LINES = "Blorf zint quorple snib vantric moop\nglarfen drest xoth prindle wub"


def test_revision_limit_keeps_the_best_draft_with_a_note(
    make_app: Callable[..., Crossroads],
) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE],
            # Two errors, one error (format only), two errors: the middle one is best.
            "writer": [GIBBERISH_4_LINES, PLAIN_4_LINES, GIBBERISH_2_LINES],
            "critic": [APPROVE, {"verdict": "revise", "issues": ["tighter imagery"]}, APPROVE],
        }
    )
    result = make_app(model, max_part_revisions=2).ask("write a haiku about rain")

    assert result.error is None
    assert result.answer.startswith(PLAIN_4_LINES)
    assert "kept with open issues after 2 revision(s)" in result.answer
    assert "A haiku has exactly 3 lines" in result.answer
    assert len(model.calls_for("writer")) == 3 and len(model.calls_for("critic")) == 3
    accept = next(s["detail"] for s in result.steps if s["action"] == "accept")
    assert accept == {
        "part": 1,
        "approved": False,
        "drafts": 3,
        "note": accept["note"],
        "kept_draft": 2,
    }
    assert [c["next"] for c in critiques(result.steps)] == ["revise", "revise", "keep"]


def test_plan_revisions_are_bounded_and_noted(make_app: Callable[..., Crossroads]) -> None:
    two_parts = {**PLAN, "parts": PLAN["parts"][:2]}
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE],
            "creative": ["premise"],
            "planner": [two_parts, two_parts, update(SUMMARY_1)],
            "critic": [APPROVE, APPROVE, APPROVE, APPROVE],
            "writer": [PART_1, PART_2],
        }
    )
    result = make_app(model, max_plan_revisions=1).ask(STORY_REQUEST)

    # The count check forced one revision; the planner's second try is kept with a note.
    revision_prompt = model.calls_for("planner")[1].prompt
    assert "exactly 3 parts, but the plan has 2" in revision_prompt
    assert [c["verdict"] for c in critiques(result.steps)][:2] == ["revise", "revise"]
    assert "the plan was kept with open issues after 1 revision(s)" in result.answer
    assert PART_2 in result.answer and result.error is None


# --- short requests -------------------------------------------------------------------------


def test_haiku_is_one_part_one_writer_call_one_critic(
    make_app: Callable[..., Crossroads],
) -> None:
    model = ScriptedChatModel(
        by_role={"router": [ROUTE_NONE], "writer": [HAIKU], "critic": [APPROVE]}
    )
    result = make_app(model, review=True).ask("write a haiku about rain")

    assert result.answer == HAIKU and result.error is None and result.interrupt is None
    assert model.calls_for("creative") == [] and model.calls_for("planner") == []
    assert len(model.calls_for("writer")) == 1 and len(model.calls_for("critic")) == 1
    assert result.usage["llm_calls"] == 3
    actions = [s["action"] for s in result.steps if s["agent"] == "writers"]
    assert actions == ["classify", "write", "critique", "accept", "assemble"]
    assert "haiku" in model.calls_for("writer")[0].prompt.lower()


def test_unusable_critic_reply_falls_back_to_the_checks(
    make_app: Callable[..., Crossroads],
) -> None:
    model = ScriptedChatModel(
        by_role={"router": [ROUTE_NONE], "writer": [HAIKU], "critic": ["looks lovely!"]}
    )
    result = make_app(model).ask("write a haiku about rain")
    assert result.answer == HAIKU
    (critique,) = critiques(result.steps)
    assert critique["model_verdict"] is None and "unusable" in critique["note"]


def test_follow_up_shows_the_writer_the_earlier_turn(make_app: Callable[..., Crossroads]) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE, ROUTE_NONE],
            "writer": [
                HAIKU,
                "Loud rain on the roof\nthe garden shouts in the dark\npuddles eat the sky",
            ],
            "critic": [APPROVE, APPROVE],
        }
    )
    app = make_app(model)
    app.ask("write a haiku about rain", thread_id="t")
    app.ask("now make it angrier", thread_id="t")
    second = model.calls_for("writer")[1].prompt
    assert "<conversation>" in second and HAIKU in second


# --- planner failure, budget ----------------------------------------------------------------


def test_unusable_plan_falls_back_to_one_part(make_app: Callable[..., Crossroads]) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE],
            "creative": ["premise"],
            "planner": ["no plan today", "still no plan"],
            "critic": [APPROVE, APPROVE],
            "writer": [PART_1],
        }
    )
    result = make_app(model).ask("Tell me a story about a lighthouse")
    assert result.answer.startswith(PART_1) and result.error is None
    plan_step = next(s["detail"] for s in result.steps if s["action"] == "plan")
    assert "unusable twice" in plan_step["notes"][0]


def test_call_budget_stops_an_endless_loop_with_the_best_draft(
    make_app: Callable[..., Crossroads],
) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE],
            "writer": [GIBBERISH_4_LINES, PLAIN_4_LINES] + [GIBBERISH_4_LINES] * 20,
            "critic": [APPROVE] * 20,
        }
    )
    result = make_app(model, max_llm_calls=6, max_part_revisions=50).ask("write a haiku about rain")
    assert result.error is not None and "max_llm_calls" in result.error
    assert result.usage["llm_calls"] == 6
    # router + (writer, critic) x 2 + one more writer; the best reviewed draft is kept.
    assert result.answer.startswith(PLAIN_4_LINES)
    assert "Writing stopped early" in result.answer and "max_llm_calls" in result.answer


# --- offline ------------------------------------------------------------------------------------


def test_offline_declines_politely(make_app: Callable[..., Crossroads]) -> None:
    result = make_app(None).ask("Write a haiku about rain")
    assert result.mode == "offline" and result.route == "none"
    assert result.answer == OFFLINE_ANSWER
    assert "GOOGLE_API_KEY" in result.answer and "ollama:llama3.2" in result.answer
    assert "pip install langchain-ollama" in result.answer


async def test_offline_mode_makes_no_model_call() -> None:
    model = ScriptedChatModel(default=HAIKU)
    output = (
        await build_writers_graph()
        .compile()
        .ainvoke(
            {"question": "write a haiku about rain"}, context=Settings(model=model, offline=True)
        )
    )
    assert output["answer"] == OFFLINE_MODE_ANSWER
    assert model.calls == []


# --- review: interrupt after the plan, then resume -----------------------------------------


def review_model(*, planner_extra: Sequence[Any] = ()) -> ScriptedChatModel:
    return ScriptedChatModel(
        by_role={
            "router": [ROUTE_NONE],
            "creative": ["premise"],
            "planner": [PLAN, *planner_extra, update(SUMMARY_1), update(SUMMARY_2)],
            "critic": [APPROVE] * (4 + len(planner_extra)),
            "writer": [PART_1, PART_2, PART_3],
        }
    )


def test_review_interrupts_after_the_plan_and_resumes(
    make_app: Callable[..., Crossroads],
) -> None:
    model = review_model()
    app = make_app(model, review=True)
    paused = app.ask(STORY_REQUEST, thread_id="r")

    review = paused.interrupt
    assert review is not None and review["type"] == "plan_review"
    assert [part["title"] for part in review["outline"]] == ["Storm", "Shore", "Sunset"]
    assert [c["name"] for c in review["bible"]["characters"]] == ["Mira", "Tom"]
    assert model.calls_for("writer") == []  # nothing is written before the person answers

    done = app.resume("r", True)
    assert done.interrupt is None and done.error is None
    assert PART_1 in done.answer and PART_3 in done.answer
    assert len(model.calls_for("planner")) == 3 and len(model.calls_for("creative")) == 1


def test_review_edits_change_the_plan(make_app: Callable[..., Crossroads]) -> None:
    model = review_model()
    app = make_app(model, review=True)
    app.ask(STORY_REQUEST, thread_id="e")

    bad = app.resume("e", {"parts": []})
    assert bad.interrupt is not None and "could not be used" in bad.interrupt["problem"]

    done = app.resume("e", {"title": "Light at Eldmoor"})
    assert done.answer.startswith("# Light at Eldmoor")
    assert "Light at Eldmoor" in model.calls_for("writer")[0].prompt


def test_review_feedback_goes_to_the_planner(make_app: Callable[..., Crossroads]) -> None:
    model = review_model(planner_extra=[PLAN])
    app = make_app(model, review=True)
    app.ask(STORY_REQUEST, thread_id="f")

    again = app.resume("f", "Give Tom a dog.")
    assert again.interrupt is not None and again.interrupt["type"] == "plan_review"
    assert "Give Tom a dog." in model.calls_for("planner")[1].prompt

    done = app.resume("f", True)
    assert PART_3 in done.answer


def test_review_stop_writes_nothing(make_app: Callable[..., Crossroads]) -> None:
    model = review_model()
    app = make_app(model, review=True)
    app.ask(STORY_REQUEST, thread_id="s")
    stopped = app.resume("s", False)
    assert stopped.answer == REVIEW_STOPPED and model.calls_for("writer") == []


def test_review_is_also_a_human_in_the_loop_request(make_app: Callable[..., Crossroads]) -> None:
    """agent-chat-ui shows action_requests with approve/edit/reject and resumes with decisions."""
    model = review_model(planner_extra=[PLAN])
    app = make_app(model, review=True)
    review = app.ask(STORY_REQUEST, thread_id="h").interrupt
    assert review is not None
    (action,) = review["action_requests"]
    assert action["name"] == "plan_review"
    assert [part["title"] for part in action["args"]["parts"]] == ["Storm", "Shore", "Sunset"]
    assert review["review_configs"] == [
        {"action_name": "plan_review", "allowed_decisions": ["approve", "edit", "reject"]}
    ]

    bad = app.resume("h", {"decisions": [{"type": "shrug"}]})
    assert bad.interrupt is not None and "unknown decision type" in bad.interrupt["problem"]
    again = app.resume("h", {"decisions": [{"type": "reject", "message": "Give Tom a dog."}]})
    assert again.interrupt is not None
    assert "Give Tom a dog." in model.calls_for("planner")[1].prompt
    edit = {"type": "edit", "edited_action": {"name": "plan_review", "args": {"title": "Eld"}}}
    done = app.resume("h", {"decisions": [edit]})
    assert done.interrupt is None and done.answer.startswith("# Eld") and PART_3 in done.answer


def test_review_approve_decision_goes_on(make_app: Callable[..., Crossroads]) -> None:
    app = make_app(review_model(), review=True)
    app.ask(STORY_REQUEST, thread_id="ha")
    done = app.resume("ha", {"decisions": [{"type": "approve"}]})
    assert done.interrupt is None and PART_3 in done.answer


def test_review_reject_without_message_stops(make_app: Callable[..., Crossroads]) -> None:
    model = review_model()
    app = make_app(model, review=True)
    app.ask(STORY_REQUEST, thread_id="hs")
    stopped = app.resume("hs", {"decisions": [{"type": "reject"}]})
    assert stopped.answer == REVIEW_STOPPED and model.calls_for("writer") == []


# --- streaming ------------------------------------------------------------------------------


def test_stream_emits_one_event_per_finished_part(make_app: Callable[..., Crossroads]) -> None:
    events = list(make_app(story_model()).stream(STORY_REQUEST))

    parts = [e.data for e in events if e.type == "progress" and e.data.get("type") == "part"]
    assert [(p["index"], p["total"], p["title"]) for p in parts] == [
        (1, 3, "Storm"),
        (2, 3, "Shore"),
        (3, 3, "Sunset"),
    ]
    # Only the accepted text is streamed, never the draft the critic sent back.
    assert [p["text"] for p in parts] == [PART_1, PART_2, PART_3]
    final = events[-1].result
    assert final is not None and PART_3 in final.answer


@pytest.mark.parametrize("short", [True, False])
async def test_subgraph_custom_stream(short: bool) -> None:
    model = (
        ScriptedChatModel(by_role={"writer": [HAIKU], "critic": [APPROVE]})
        if short
        else story_model(renamed=False)
    )
    question = "write a haiku about rain" if short else STORY_REQUEST
    graph = build_writers_graph().compile()
    seen = [
        chunk
        async for chunk in graph.astream(
            {"question": question}, context=Settings(model=model), stream_mode="custom"
        )
    ]
    assert [chunk["index"] for chunk in seen] == ([1] if short else [1, 2, 3])
    assert all(chunk["type"] == "part" for chunk in seen)


# --- wiring ---------------------------------------------------------------------------------


def test_graph_wiring() -> None:
    drawn = build_writers_graph().compile().get_graph()
    edges = {(edge.source, edge.target) for edge in drawn.edges}
    assert {
        ("critique_plan", "plan_story"),
        ("critique_plan", "review_plan"),
        ("critique_part", "write_part"),
        ("critique_part", "accept_part"),
        ("accept_part", "update_memory"),
        ("update_memory", "write_part"),
        ("start_request", "write_part"),  # the short path skips the creative and the planner
        ("write_part", "assemble"),  # a failed call still assembles what was written
    } <= edges
    assert ("start_request", "critique_plan") not in edges


def test_a_new_request_on_the_thread_starts_a_fresh_plan(
    make_app: Callable[..., Crossroads],
) -> None:
    model = story_model(renamed=False)
    app = make_app(model)
    app.ask(STORY_REQUEST, thread_id="same")
    model.add_replies(ROUTE_NONE, role="router")
    model.add_replies("premise", role="creative")
    model.add_replies("no plan", "no plan again", role="planner")
    model.add_replies(APPROVE, APPROVE, role="critic")
    model.add_replies(PART_1, role="writer")
    second = app.ask("Tell me another story", thread_id="same")
    plan_step = next(s["detail"] for s in second.steps if s["action"] == "plan")
    assert "unusable twice" in plan_step["notes"][0]  # not the first story's plan
    assert second.answer.startswith(PART_1) and PART_3 not in second.answer


async def test_context_from_a_multi_step_plan_reaches_the_writer_and_critic() -> None:
    model = ScriptedChatModel(by_role={"writer": [HAIKU], "critic": [APPROVE]})
    await (
        build_writers_graph()
        .compile()
        .ainvoke(
            {"question": "write a haiku about the result", "context": "12 * 7 = 84"},
            context=Settings(model=model),
        )
    )
    for role in ("writer", "critic"):
        assert (
            "<earlier_results>\n12 * 7 = 84\n</earlier_results>" in model.calls_for(role)[0].prompt
        )


def test_time_spent_reviewing_does_not_count_against_the_budget(
    make_app: Callable[..., Crossroads],
) -> None:
    import time

    model = review_model()
    app = make_app(model, review=True, max_seconds=2.0)
    paused = app.ask(STORY_REQUEST, thread_id="slow-reviewer")
    assert paused.interrupt is not None
    time.sleep(2.5)  # the person takes longer than the whole request may
    done = app.resume("slow-reviewer", True)
    assert done.error is None, done.error
    assert PART_3 in done.answer
