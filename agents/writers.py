"""The writing team: creative, planner, critic and writer, each with its own memory.

A language model writes well sentence by sentence but loses track over a long piece ("Mira"
becomes "Mara" by part three) and happily approves its own work. So the team splits the job
and checks every step:

* **creative** (high temperature) drafts the premise: hero, setting, conflict, tone.
* **planner** turns it into an outline and the shared **bible** (characters with traits,
  places, facts, style), both as structured output (:class:`StoryPlan`), and after each part
  updates the bible and writes the part's summary (:class:`BibleUpdate`).
* **critic** checks the plan and then each part: first the deterministic checks of
  :mod:`crossroads.tools.text_checks` (names against the bible, spelling, length, format), then
  its own reading, into a :class:`Verdict` (``approve`` | ``revise`` + issues). **The critic
  cannot approve work that failed a deterministic check** (a finding of severity ``error``):
  :func:`enforce_verdict` turns such an approval into ``revise`` in code, whatever the model
  said, so the team cannot talk its way past a broken name or a missing line.
* **writer** writes one part at a time from the plan, the bible and the summaries of the
  finished parts, and revises it with the critic's issues.

Memory: each role has a private channel in state (``creative_memory``, ``planner_memory``,
``critic_notes``, ``writer_memory``); the plan, the bible and the part summaries are shared.
The writer's channel is a real conversation (its draft, then the critic's issues) that starts
afresh with every part, so a part's revisions do not cost the next part tokens.

**Short requests** skip the creative and the planner. :func:`classify_request` decides with a
deterministic rule, in this order:

1. an explicit number of parts ("in 3 parts", "a five-chapter story") → long, that many
   parts (capped by ``Settings.max_parts``);
2. a short form (haiku, limerick, tweet, email, reply, poem, "a sentence", slogan, toast,
   joke, ...) → short: one part of that form, no planning call;
3. a long form (story, tale, essay, article, chapter, script, ...) → long: the planner picks
   the number of parts, at most ``Settings.max_parts``;
4. anything else (chat, advice, a question) → short, one part.

A short request makes two model calls when all goes well: one writer call and one critic
pass. Revisions, on either path, are bounded (``max_plan_revisions``, ``max_part_revisions``);
a stubborn loop ends with the best draft (fewest error findings) and a note in the answer
and the steps ("part 2 kept with open issues after 2 revisions: ..."). Every call goes
through :class:`~crossroads.llm.ModelCaller`, so the request's call budget stops an endless
loop too; the answer then holds what was written so far and ``error`` says why it stopped.

With ``Settings.review`` the run pauses after the plan (:func:`langgraph.types.interrupt`)
with the outline and the bible; see :func:`review_plan` for the values it may be resumed
with. Short requests have no plan to review, so they never pause.

The rules that need no model (the request's shape, a part's length window, the critic's
guard, plan checks, the best draft, bible updates, reading a review answer) are in
:mod:`crossroads.agents.writers_rules`, the prompts in :mod:`crossroads.agents.writers_prompts`;
this module holds the nodes and their state, and :mod:`crossroads.graphs.writers` the
decisions between them and the wiring.

Streaming: each finished part is emitted as a custom event
``{"type": "part", "index": i, "total": n, "title": ..., "text": ...}`` (1-based ``index``).
The writer's calls are not tagged as answer tokens: a draft the critic sends back would
otherwise reach the user's screen, so only accepted text is streamed.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from crossroads.agents import writers_prompts as prompts
from crossroads.agents.writers_rules import (
    BibleUpdate,
    RequestShape,
    StoryPlan,
    Verdict,
    best_draft,
    check_plan,
    classify_request,
    describe_bible,
    describe_findings,
    describe_outline,
    enforce_verdict,
    interpret_review,
    merge_bible,
    part_limits,
    short_plan,
)
from crossroads.contract import AgentState, conversation_lines, run_settings, step
from crossroads.llm import ModelCaller
from crossroads.settings import Settings
from crossroads.tools.text import clip
from crossroads.tools.text_checks import Bible, Finding, run_checks

AGENT = "writers"

# --- answers and notes (named so tests and callers can refer to them) -------------------

OFFLINE_ANSWER = (
    "Writing needs a chat model, and none is configured, so I cannot write this offline. "
    "To set one up, either export a Gemini key (GOOGLE_API_KEY=...), or run a local model "
    "through a LangChain provider such as Ollama: `pip install langchain-ollama`, then "
    "export CROSSROADS_MODEL=ollama:llama3.2."
)
OFFLINE_MODE_ANSWER = (
    "Writing needs a chat model, and offline mode is on (offline=True or "
    "CROSSROADS_OFFLINE=1), so I cannot write this. Turn offline mode off to use the "
    "configured model."
)
PART_KEPT_WITH_ISSUES = "{what} kept with open issues after {revisions} revision(s): {issues}"
PLAN_KEPT_WITH_ISSUES = "the plan was kept with open issues after {revisions} revision(s): {issues}"
STOPPED_EARLY = "Writing stopped early ({error}); {what}."
NOTHING_WRITTEN = "nothing was finished"
UNFINISHED_PART = "part {index} is the best unfinished draft"
PARTS_WRITTEN = "{done} of {total} part(s) are finished"
REVIEW_STOPPED = "Stopped at the plan review, as you asked; nothing was written."
REVIEW_DESCRIPTION = (
    "Review the story plan: approve it, edit its title, parts or bible, or reject it (with a "
    "message, the planner revises the plan; without one, nothing is written)."
)
REVIEW_BAD_EDITS = "your plan edits could not be used ({error}); send them again or approve"
REVIEW_ROUNDS_SPENT = "the plan review ended after {rounds} rounds; kept the current plan"
PLANNER_UNUSABLE = "the planner's reply was unusable twice ({error}); wrote it as one part"
PARTS_CAPPED = "the plan had {count} parts; kept the first {limit} (max_parts)"
CRITIC_UNUSABLE = "the critic's reply was unusable ({error}); its reading is missing"
NOTES_HEADING = "Notes:"
NOTHING_WRITTEN_ANSWER = "Sorry, I could not write this: {error}"

MAX_REVIEW_ROUNDS = 3
"""Times a person can send plan feedback or edits before the run goes on with the plan."""

HISTORY_TURNS = 4
HISTORY_CHARS = 600
"""Earlier turns of the thread shown to the writer, each cut to this many characters (so
follow-ups such as "make it rhyme" work without the history growing the prompt unbounded)."""

PREMISE_MAX_WORDS = 150
SUMMARY_MAX_WORDS = 80
FALLBACK_SUMMARY_WORDS = 60
NOTE_MAX_ISSUES = 3
NOTE_ISSUE_CHARS = 200
LONG_PART_DEFAULT_WORDS = 300


def _summaries_text(state: WritersState, plan: StoryPlan) -> str:
    summaries = state.get("summaries") or []
    if not summaries:
        return prompts.NOTHING_YET
    return "\n".join(
        f"Part {number} ({plan.parts[number - 1].title}): {summary}"
        for number, summary in enumerate(summaries, start=1)
    )


def _request_text(state: WritersState) -> str:
    """The request, plus what earlier steps of a multi-step plan found (``context``)."""
    context = (state.get("context") or "").strip()
    if not context:
        return state["question"]
    return state["question"] + prompts.CONTEXT_BLOCK.format(context=context)


def _conversation(state: WritersState) -> str:
    """Recent turns of the thread (not the current question), fenced."""
    turns = conversation_lines(
        state.get("messages") or [],
        state.get("question", ""),
        summary=state.get("summary") or "",
        last=HISTORY_TURNS,
        chars=HISTORY_CHARS,
    )
    return prompts.CONVERSATION_BLOCK.format(turns="\n".join(turns)) if turns else ""


def _clip(issues: Sequence[str]) -> str:
    shown = [clip(issue, NOTE_ISSUE_CHARS) for issue in issues[:NOTE_MAX_ISSUES]]
    more = len(issues) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def _words(text: str) -> int:
    return len(text.split())


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content.strip()
    pieces = [block.get("text", "") if isinstance(block, dict) else str(block) for block in content]
    return "".join(pieces).strip()


# --- state ----------------------------------------------------------------------------


class WritersState(AgentState, total=False):
    """The writing team's internal state: the agent contract plus the team's own keys."""

    shape: dict[str, Any]
    """The request's :class:`RequestShape`, as a dict (set by ``start_request``)."""
    review_wanted: bool
    """Pause for a person after the plan (``Settings.review``)."""

    # shared memory
    premise: str
    """The creative's premise (long requests only)."""
    plan: dict[str, Any]
    """The :class:`StoryPlan` in force (outline and the bible it started with)."""
    bible: dict[str, Any]
    """The shared bible, grown after each part (:class:`~crossroads.tools.text_checks.Bible`)."""
    summaries: list[str]
    """Summaries of the finished parts, in order."""
    parts: list[dict[str, Any]]
    """Finished parts: ``{"title", "text", "approved"}``."""

    # loop counters and their results
    plan_revisions: int
    """Plan revisions made so far (at most ``Settings.max_plan_revisions``)."""
    plan_issues: list[str]
    """Issues the planner must fix next; empty when the plan stands."""
    review_rounds: int
    """Plan reviews answered with edits or feedback (at most :data:`MAX_REVIEW_ROUNDS`)."""
    review_feedback: str
    """A person's feedback for the planner's next revision."""
    review_problem: str
    """Why a person's last edits could not be used (shown in the next review)."""
    review_outcome: str
    """``approved``, ``edited``, ``feedback``, ``invalid`` or ``stopped``."""
    part_index: int
    """0-based index of the part being written."""
    draft: str
    """The current part's latest draft."""
    drafts: list[dict[str, Any]]
    """The current part's reviewed drafts: ``{"text", "errors", "warnings", "issues"}``."""
    part_revisions: int
    """Revisions of the current part so far (at most ``Settings.max_part_revisions``)."""
    part_verdict: str
    """``approve``, ``revise`` or ``keep`` (the loop ended unapproved)."""
    open_issues: list[str]
    """Notes for the answer about work kept with open issues."""

    # private memory, one channel per role
    creative_memory: list[str]
    """The creative's premises (its own notes)."""
    planner_memory: list[AnyMessage]
    """The planner's conversation: request, its plans, the critic's and people's requests."""
    critic_notes: list[str]
    """The critic's verdicts so far, one line each (it reads its notes on the current part)."""
    writer_memory: list[AnyMessage]
    """The writer's conversation on the current part: prompt, drafts, the critic's issues."""


def _shape(state: WritersState) -> RequestShape:
    return RequestShape(**state["shape"])


def _plan(state: WritersState) -> StoryPlan:
    return StoryPlan.model_validate(state["plan"])


def _bible(state: WritersState) -> Bible:
    return Bible.model_validate(state.get("bible") or {})


# --- nodes ----------------------------------------------------------------------------


async def start_request(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Decline politely offline; otherwise classify the request and reset the team's state."""
    settings = run_settings(runtime)
    if not settings.has_model:
        answer = OFFLINE_MODE_ANSWER if settings.offline and settings.model else OFFLINE_ANSWER
        return {"answer": answer, "steps": [step(AGENT, "offline", "writing needs a chat model")]}
    question = state["question"]
    shape = classify_request(question, max_parts=settings.max_parts)
    update: dict[str, Any] = {
        "shape": dataclasses.asdict(shape),
        "review_wanted": settings.review and not shape.short,
        "premise": "",
        "summaries": [],
        "parts": [],
        "plan_revisions": 0,
        "plan_issues": [],
        "review_rounds": 0,
        "review_feedback": "",
        "review_problem": "",
        "review_outcome": "",
        "part_index": 0,
        "draft": "",
        "drafts": [],
        "part_revisions": 0,
        "part_verdict": "",
        "open_issues": [],
        "creative_memory": [],
        "planner_memory": [],
        "critic_notes": [],
        "writer_memory": [],
        "steps": [
            step(
                AGENT,
                "classify",
                {k: v for k, v in dataclasses.asdict(shape).items() if v is not None},
            )
        ],
    }
    # A short request's plan is known now; a long one's comes from the planner.
    plan = short_plan(question).model_dump() if shape.short else {}
    update["plan"] = plan
    update["bible"] = plan.get("bible", {})
    return update


async def draft_premise(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Creative: the premise the planner builds on."""
    caller = ModelCaller(run_settings(runtime), state, "writers.creative")
    messages = [
        SystemMessage(content=prompts.CREATIVE_SYSTEM.format(max_words=PREMISE_MAX_WORDS)),
        HumanMessage(
            content=prompts.CREATIVE_REQUEST.format(
                request=_request_text(state), conversation=_conversation(state)
            )
        ),
    ]
    premise = _text_of(await caller.ainvoke("creative", messages))
    note = None
    if not premise:
        premise, note = state["question"], "empty premise; the planner works from the request"
    return {
        "premise": premise,
        "creative_memory": [*(state.get("creative_memory") or []), premise],
        "usage": caller.usage_update(),
        "steps": [
            step(
                AGENT,
                "premise",
                {"words": _words(premise), "note": note} if note else {"words": _words(premise)},
            )
        ],
    }


async def plan_story(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Planner: the outline and the bible (structured), revised with the critic's issues."""
    settings = run_settings(runtime)
    shape = _shape(state)
    caller = ModelCaller(settings, state, "writers.planner")
    part_rule = (
        prompts.PART_RULE_EXACT.format(parts=shape.parts)
        if shape.parts is not None
        else prompts.PART_RULE_CHOOSE.format(max_parts=settings.max_parts)
    )
    if shape.words is not None:
        part_rule += "\n" + prompts.WORDS_RULE.format(words=shape.words)
    memory: list[BaseMessage] = list(state.get("planner_memory") or [])
    if not memory:
        memory.append(
            HumanMessage(
                content=prompts.PLANNER_REQUEST.format(
                    request=_request_text(state), premise=state.get("premise") or state["question"]
                )
            )
        )
    elif state.get("review_feedback"):
        memory.append(
            HumanMessage(
                content=prompts.PLANNER_HUMAN_FEEDBACK.format(feedback=state["review_feedback"])
            )
        )
    elif state.get("plan_issues"):
        issues = "\n".join(f"- {issue}" for issue in state["plan_issues"])
        memory.append(HumanMessage(content=prompts.PLANNER_REVISION.format(issues=issues)))
    system = SystemMessage(content=prompts.PLANNER_SYSTEM.format(part_rule=part_rule))

    notes: list[str] = []
    reply = await caller.astructured(
        "planner",
        StoryPlan,
        [system, *memory],
        retry=lambda error: prompts.PLANNER_RETRY.format(error=error),
    )
    if isinstance(reply.parsed, StoryPlan):
        plan = reply.parsed
    elif state.get("plan"):
        plan = _plan(state)  # keep the last usable plan rather than fall back further
        notes.append(f"the planner's revision was unusable ({reply.error}); kept the last plan")
    else:
        plan = short_plan(state["question"])
        notes.append(PLANNER_UNUSABLE.format(error=reply.error))
    if len(plan.parts) > settings.max_parts:
        notes.append(PARTS_CAPPED.format(count=len(plan.parts), limit=settings.max_parts))
        plan = plan.model_copy(update={"parts": plan.parts[: settings.max_parts]})
    memory.append(AIMessage(content=plan.model_dump_json()))
    detail: dict[str, Any] = {
        "revision": state.get("plan_revisions", 0),
        "title": plan.title,
        "parts": [part.title for part in plan.parts],
        "characters": [character.name for character in plan.bible.characters],
    }
    if notes:
        detail["notes"] = notes
    return {
        "plan": plan.model_dump(),
        "bible": plan.bible.model_dump(),
        "planner_memory": memory,
        "plan_issues": [],
        "review_feedback": "",
        "usage": caller.usage_update(),
        "steps": [step(AGENT, "plan", detail)],
    }


_PLAIN_VERDICT = re.compile(r"\b(approve[sd]?|revise[sd]?)\b", re.IGNORECASE)


def plain_verdict(text: str) -> Verdict | None:
    """Read a plain-text critic reply: the first "approve" or "revise" in it, and its lines
    starting with ``-`` as the issues."""
    match = _PLAIN_VERDICT.search(text)
    if match is None:
        return None
    verdict: Literal["approve", "revise"] = (
        "approve" if match.group(1).lower().startswith("approve") else "revise"
    )
    issues = [
        line.strip()[1:].strip() for line in text.splitlines() if line.strip().startswith("-")
    ]
    return Verdict(verdict=verdict, issues=[issue for issue in issues if issue][:10])


async def _critic_reading(
    caller: ModelCaller, messages: Sequence[BaseMessage], findings: Sequence[Finding]
) -> tuple[Literal["approve", "revise"], list[str], dict[str, Any]]:
    """The critic's reading of the plan or a part, with the deterministic findings enforced
    (:func:`enforce_verdict`): the verdict, its issues, and the step's detail."""
    reply = await caller.astructured("critic", Verdict, messages, lenient=plain_verdict)
    parsed = reply.parsed if isinstance(reply.parsed, Verdict) else None
    verdict, issues, overridden = enforce_verdict(parsed, findings)
    detail: dict[str, Any] = {
        "model_verdict": parsed.verdict if parsed else None,
        "verdict": verdict,
        "overridden": overridden,
        "findings": [finding.model_dump() for finding in findings],
        "issues": issues,
    }
    if parsed is None:
        detail["note"] = CRITIC_UNUSABLE.format(error=reply.error)
    return verdict, issues, detail


async def critique_plan(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Critic on the plan: deterministic checks, then the model's reading, into a verdict."""
    settings = run_settings(runtime)
    plan = _plan(state)
    findings = check_plan(plan, _shape(state))
    caller = ModelCaller(settings, state, "writers.critic")
    plan_text = (
        f"Title: {plan.title}\n{describe_outline(plan)}\n\nBible:\n{describe_bible(plan.bible)}"
    )
    messages = [
        SystemMessage(content=prompts.CRITIC_SYSTEM),
        HumanMessage(
            content=prompts.CRITIC_PLAN_REQUEST.format(
                request=_request_text(state), plan=plan_text, findings=describe_findings(findings)
            )
        ),
    ]
    verdict, issues, reading = await _critic_reading(caller, messages, findings)
    revisions = state.get("plan_revisions", 0)
    update: dict[str, Any] = {"usage": caller.usage_update()}
    detail: dict[str, Any] = {"target": "plan", **reading}
    if verdict == "revise" and revisions < settings.max_plan_revisions:
        update["plan_issues"] = issues
        update["plan_revisions"] = revisions + 1
    else:
        update["plan_issues"] = []
        if verdict == "revise":
            note = PLAN_KEPT_WITH_ISSUES.format(revisions=revisions, issues=_clip(issues))
            update["open_issues"] = [*(state.get("open_issues") or []), note]
            detail["note"] = note
    update["critic_notes"] = [
        *(state.get("critic_notes") or []),
        f"plan (revision {revisions}): {verdict}" + (f": {_clip(issues)}" if issues else ""),
    ]
    update["steps"] = [step(AGENT, "critique", detail)]
    return update


async def review_plan(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Pause for a person to review the plan (``Settings.review``).

    The interrupt's payload is ``{"type": "plan_review", "title", "outline", "bible",
    "premise", "problem", "how"}``. Resume with:

    * ``True`` (or ``None``, ``"ok"``, ``"approve"``): go on with the plan;
    * ``False`` (or ``"stop"``): stop; nothing is written;
    * a dict of plan edits (``{"title": ...}``, ``{"parts": [...]}``, ``{"bible": {...}}``,
      or ``{"plan": {...}}``), validated as a :class:`StoryPlan`; invalid edits bring the
      review back with the problem stated;
    * any other string: feedback the planner revises the plan with, then the review returns.

    After :data:`MAX_REVIEW_ROUNDS` rounds of edits or feedback the run goes on with the
    plan in force.
    """
    settings = run_settings(runtime)
    plan = _plan(state)
    rounds = state.get("review_rounds", 0)
    payload = {
        "type": "plan_review",
        "title": plan.title,
        "outline": [part.model_dump() for part in plan.parts],
        "bible": plan.bible.model_dump(),
        "premise": state.get("premise", ""),
        "problem": state.get("review_problem") or None,
        "how": "resume with True to approve, False to stop, a dict of plan edits "
        "(title, parts, bible), or a string of feedback for the planner",
        # The same review in LangChain's human-in-the-loop shape, which agent-chat-ui
        # renders with approve / edit / reject buttons (see interpret_review).
        "action_requests": [
            {
                "name": "plan_review",
                "args": {
                    "title": plan.title,
                    "parts": [part.model_dump() for part in plan.parts],
                    "bible": plan.bible.model_dump(),
                },
                "description": REVIEW_DESCRIPTION,
            }
        ],
        "review_configs": [
            {"action_name": "plan_review", "allowed_decisions": ["approve", "edit", "reject"]}
        ],
    }
    value = interrupt(payload)
    outcome, result = interpret_review(value, plan, settings.max_parts)
    # The time a person took to answer is not the request's: the time budget restarts.
    update: dict[str, Any] = {
        "review_outcome": outcome,
        "review_problem": "",
        "started_at": time.time(),
    }
    detail: dict[str, Any] = {"outcome": outcome}
    if outcome in {"feedback", "invalid", "edited"}:
        rounds += 1
        update["review_rounds"] = rounds
        if rounds > MAX_REVIEW_ROUNDS and outcome != "edited":
            note = REVIEW_ROUNDS_SPENT.format(rounds=MAX_REVIEW_ROUNDS)
            update["review_outcome"] = outcome = "approved"
            update["open_issues"] = [*(state.get("open_issues") or []), note]
            detail["note"] = note
    if outcome == "stopped":
        update["answer"] = REVIEW_STOPPED
    elif outcome == "edited" and isinstance(result, StoryPlan):
        update["plan"] = result.model_dump()
        update["bible"] = result.bible.model_dump()
        detail["parts"] = [part.title for part in result.parts]
    elif outcome == "feedback":
        update["review_feedback"] = result
        detail["feedback"] = result
    elif outcome == "invalid":
        update["review_problem"] = REVIEW_BAD_EDITS.format(error=result)
        detail["problem"] = result
    update["steps"] = [step(AGENT, "review", detail)]
    return update


async def write_part(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Writer: the current part, or its revision with the critic's issues."""
    settings = run_settings(runtime)
    shape = _shape(state)
    plan = _plan(state)
    index = state.get("part_index", 0)
    part = plan.parts[index]
    min_words, max_words = part_limits(part, shape, parts=len(plan.parts))
    if min_words is not None and max_words is not None:
        length = prompts.LENGTH_RULE.format(min_words=min_words, max_words=max_words)
    elif max_words is not None:
        length = prompts.MAX_LENGTH_RULE.format(max_words=max_words)
    else:
        length = ""
    drafts = state.get("drafts") or []
    memory: list[BaseMessage] = list(state.get("writer_memory") or []) if drafts else []
    if not memory:
        if shape.short:
            content = prompts.WRITER_SHORT_REQUEST.format(
                request=_request_text(state), conversation=_conversation(state), length=length
            )
        else:
            content = prompts.WRITER_REQUEST.format(
                request=_request_text(state),
                conversation=_conversation(state),
                title=plan.title,
                outline=describe_outline(plan),
                bible=describe_bible(_bible(state)),
                summaries=_summaries_text(state, plan),
                index=index + 1,
                total=len(plan.parts),
                part_title=part.title,
                goal=part.goal,
                length=length,
            )
        memory.append(HumanMessage(content=content))
    else:
        issues = "\n".join(f"- {issue}" for issue in drafts[-1]["issues"])
        memory.append(HumanMessage(content=prompts.WRITER_REVISION.format(issues=issues)))
    form_rule = prompts.FORM_RULES.get(shape.kind or "", "")
    system = SystemMessage(content=prompts.WRITER_SYSTEM.format(form_rule=form_rule))
    caller = ModelCaller(settings, state, "writers.writer")
    text = _text_of(await caller.ainvoke("writer", [system, *memory]))
    memory.append(AIMessage(content=text))
    return {
        "draft": text,
        "writer_memory": memory,
        "usage": caller.usage_update(),
        "steps": [
            step(
                AGENT, "write", {"part": index + 1, "draft": len(drafts) + 1, "words": _words(text)}
            )
        ],
    }


async def critique_part(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Critic on a part: the text checks, then the model's reading; approval is enforced."""
    settings = run_settings(runtime)
    shape = _shape(state)
    plan = _plan(state)
    bible = _bible(state)
    index = state.get("part_index", 0)
    part = plan.parts[index]
    draft = state.get("draft", "")
    min_words, max_words = part_limits(part, shape, parts=len(plan.parts))
    findings = run_checks(draft, bible, min_words=min_words, max_words=max_words, kind=shape.kind)
    label = f"part {index + 1}"
    own_notes = [note for note in state.get("critic_notes") or [] if note.startswith(label + ",")]
    part_plan = f"{part.title}: {part.goal}" if part.title else part.goal
    if min_words is not None or max_words is not None:
        part_plan += f"\nLength: {min_words or 0} to {max_words or 'any number of'} words"
    caller = ModelCaller(settings, state, "writers.critic")
    messages = [
        SystemMessage(content=prompts.CRITIC_SYSTEM),
        HumanMessage(
            content=prompts.CRITIC_PART_REQUEST.format(
                index=index + 1,
                total=len(plan.parts),
                request=_request_text(state),
                bible=describe_bible(bible),
                part_plan=part_plan,
                summaries=_summaries_text(state, plan),
                notes="\n".join(own_notes) or prompts.NOTHING_YET,
                draft=draft,
                findings=describe_findings(findings),
            )
        ),
    ]
    verdict, issues, reading = await _critic_reading(caller, messages, findings)
    drafts = state.get("drafts") or []
    errors = sum(1 for finding in findings if finding.severity == "error")
    record = {
        "text": draft,
        "errors": errors,
        "warnings": len(findings) - errors,
        "issues": issues,
    }
    revisions = state.get("part_revisions", 0)
    if verdict == "approve":
        outcome = "approve"
    elif revisions < settings.max_part_revisions:
        outcome = "revise"
    else:
        outcome = "keep"
    detail = {"target": label, "draft": len(drafts) + 1, **reading, "next": outcome}
    note = f"{label}, draft {len(drafts) + 1}: {verdict}" + (f": {_clip(issues)}" if issues else "")
    return {
        "drafts": [*drafts, record],
        "part_verdict": outcome,
        "part_revisions": revisions + 1 if outcome == "revise" else revisions,
        "critic_notes": [*(state.get("critic_notes") or []), note],
        "usage": caller.usage_update(),
        "steps": [step(AGENT, "critique", detail)],
    }


async def accept_part(state: WritersState) -> dict[str, Any]:
    """Keep the approved draft (or the best one when the loop ended), and stream the part."""
    shape = _shape(state)
    plan = _plan(state)
    index = state.get("part_index", 0)
    drafts = state.get("drafts") or []
    approved = state.get("part_verdict") == "approve"
    chosen = drafts[-1] if approved else best_draft(drafts)
    open_issues = list(state.get("open_issues") or [])
    detail: dict[str, Any] = {"part": index + 1, "approved": approved, "drafts": len(drafts)}
    if not approved:
        what = "the text" if shape.short else f"part {index + 1}"
        note = PART_KEPT_WITH_ISSUES.format(
            what=what, revisions=state.get("part_revisions", 0), issues=_clip(chosen["issues"])
        )
        open_issues.append(note)
        detail["note"] = note
        detail["kept_draft"] = drafts.index(chosen) + 1
    title = plan.parts[index].title
    parts = [
        *(state.get("parts") or []),
        {"title": title, "text": chosen["text"], "approved": approved},
    ]
    get_stream_writer()(
        {
            "type": "part",
            "index": index + 1,
            "total": len(plan.parts),
            "title": title,
            "text": chosen["text"],
        }
    )
    return {
        "parts": parts,
        "part_index": index + 1,
        "draft": "",
        "drafts": [],
        "part_revisions": 0,
        "part_verdict": "",
        "writer_memory": [],
        "open_issues": open_issues,
        "steps": [step(AGENT, "accept", detail)],
    }


async def update_memory(state: WritersState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Planner, after a part: its summary and what it added to the bible (structured)."""
    bible = _bible(state)
    finished = (state.get("parts") or [])[-1]
    number = len(state.get("parts") or [])
    caller = ModelCaller(run_settings(runtime), state, "writers.bible")
    messages = [
        SystemMessage(content=prompts.BIBLE_UPDATE_SYSTEM.format(max_words=SUMMARY_MAX_WORDS)),
        HumanMessage(
            content=prompts.BIBLE_UPDATE_REQUEST.format(
                bible=describe_bible(bible),
                index=number,
                title=finished["title"],
                text=finished["text"],
            )
        ),
    ]
    reply = await caller.astructured("planner", BibleUpdate, messages)
    detail: dict[str, Any] = {"part": number}
    if isinstance(reply.parsed, BibleUpdate) and reply.parsed.summary.strip():
        update = reply.parsed
        summary = update.summary.strip()
        bible = merge_bible(bible, update)
        detail["added"] = {
            "characters": [character.name for character in update.new_characters],
            "places": update.new_places,
            "facts": len(update.new_facts),
        }
    else:
        # The part itself is the best summary we have; its opening words keep the thread.
        summary = " ".join(finished["text"].split()[:FALLBACK_SUMMARY_WORDS])
        detail["note"] = (
            f"the bible update was unusable ({reply.error}); summary taken from the text"
        )
    return {
        "summaries": [*(state.get("summaries") or []), summary],
        "bible": bible.model_dump(),
        "usage": caller.usage_update(),
        "steps": [step(AGENT, "update_bible", detail)],
    }


async def assemble(state: WritersState) -> dict[str, Any]:
    """Join the finished parts into the answer, with notes about open issues or a stop."""
    shape = _shape(state)
    plan = _plan(state) if state.get("plan") else None
    parts = list(state.get("parts") or [])
    notes = list(state.get("open_issues") or [])
    error = state.get("error")
    total = len(plan.parts) if plan else 1
    if error:
        index = len(parts)
        drafts = state.get("drafts") or []
        unfinished = best_draft(drafts)["text"] if drafts else (state.get("draft") or "")
        done = [PARTS_WRITTEN.format(done=index, total=total)] if parts else []
        if unfinished and plan is not None and index < total:
            parts.append({"title": plan.parts[index].title, "text": unfinished, "approved": False})
            done.append(UNFINISHED_PART.format(index=index + 1))
        notes.append(STOPPED_EARLY.format(error=error, what="; ".join(done) or NOTHING_WRITTEN))

    if shape.short or (plan is not None and len(plan.parts) == 1 and not plan.parts[0].title):
        body = "\n\n".join(part["text"] for part in parts)
    else:
        sections = [f"# {plan.title}"] if plan is not None and plan.title else []
        for number, part in enumerate(parts, start=1):
            heading = f"## {number}. {part['title']}" if part["title"] else f"## Part {number}"
            sections.append(f"{heading}\n\n{part['text']}")
        body = "\n\n".join(sections)
    if error and not body:
        # Nothing to show: say why in one sentence instead of a list of notes.
        body, notes = NOTHING_WRITTEN_ANSWER.format(error=error), []
    if notes:
        body = (
            (body + "\n\n---\n" if body else "")
            + NOTES_HEADING
            + "\n"
            + "\n".join(f"- {note}" for note in notes)
        )
    detail = {
        "parts": len(parts),
        "words": sum(_words(part["text"]) for part in parts),
        "open_issues": notes,
    }
    return {"answer": body, "steps": [step(AGENT, "assemble", detail)]}
