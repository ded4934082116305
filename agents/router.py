"""The router: a multiple-choice question about the user's question.

The model is good at "pick one of three labels", so that is all it is asked: which
registered agent should take this question, and why, in one line. The choices are built
from the registered agents' names, descriptions and examples (``AgentSpec``), never from
hard-coded branches, so a new agent is routable the moment it is registered.

Order of decision, cheapest first:

1. **Offline classifier** (no LLM): when no chat model is configured, it decides. When one
   is configured and the classifier is confident (at or above a threshold tuned on a
   held-out split), it decides too and the LLM router call is skipped. It only knows the
   built-in routes, so this fast path is off when other agents are registered.
2. **LLM router**: one structured-output call at temperature 0. If the reply is empty or not
   one of the choices, one retry shows the model its error; after that the route falls back
   to the catch-all agent (``none`` by default), which never does harm.

On a re-route (an agent gave up and handed back a reason), routes already tried are
excluded from the choices. Offline, the classifier's next choice among them takes the
question ("How many books can members borrow?": math first, on "how many", then fact).
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, create_model

from crossroads.agents import router_prompts as prompts
from crossroads.contract import recent_turns, run_settings, step
from crossroads.llm import ModelCaller
from crossroads.registry import AgentSpec
from crossroads.settings import Settings
from crossroads.tools.text import content_words

FALLBACK_ROUTE = "none"

FELL_BACK = "the router's answer was unusable twice ({error}); fell back to {route!r}"
OFFLINE_REROUTE = "offline re-route: the classifier's next choice after {tried}"
HISTORY_TURNS = 6
HISTORY_CHARS = 500
PLAN_CUT = (
    "the plan had {cut} more step(s) than the limit of {limit} (max_plan_steps); "
    "the extra steps were dropped"
)


@dataclass(frozen=True)
class RouteDecision:
    """The router's decision for one question.

    Attributes:
        route: Name of the chosen agent.
        reason: One line saying why.
        confidence: The offline classifier's probability, when it decided; else ``None``.
        decided_by: ``"classifier"``, ``"llm"`` or ``"fallback"``.
        plan: For a question that needs several agents: ``{"route", "question"}`` steps, in
            order (the first step's route is ``route``); empty otherwise.
        plan_cut: How many steps were dropped because the plan was longer than allowed.
    """

    route: str
    reason: str
    confidence: float | None
    decided_by: str
    plan: tuple[dict[str, str], ...] = ()
    plan_cut: int = 0


def route_schema(names: Sequence[str]) -> type[BaseModel]:
    """A structured-output schema whose ``route`` field is a ``Literal`` of ``names``.

    ``steps`` is optional: an ordered plan for questions that need several agents. One class
    per tuple of names, made once: building it costs milliseconds, and the model caller keeps
    its bound runnable per schema (``crossroads.llm.bound_runnable``).
    """
    return _route_schema(tuple(names))


@lru_cache(maxsize=64)
def _route_schema(names: tuple[str, ...]) -> type[BaseModel]:
    choice: Any = Literal[names]
    step = create_model(
        "PlanStep",
        __doc__="One step of a multi-agent plan.",
        route=(choice, Field(description="Agent for this step.")),
        question=(str, Field(description="The sub-question this agent answers.")),
    )
    return create_model(
        "RouteChoice",
        __doc__="Which agent should handle the user's question.",
        route=(choice, Field(description="Name of the agent that should answer (the first step).")),
        reason=(str, Field(description="Why, in one short line.")),
        steps=(
            list[step],  # type: ignore[valid-type]
            Field(default_factory=list, description="Only for questions needing several agents."),
        ),
    )


def router_messages(
    specs: Sequence[AgentSpec],
    question: str,
    history: Sequence[BaseMessage],
    *,
    tried: Sequence[str] = (),
    handoff: str | None = None,
    max_steps: int = 4,
    summary: str = "",
) -> list[BaseMessage]:
    """The router's prompt: choices with examples, the running summary of older turns (if
    any), recent history, then the question."""
    lines = []
    for spec in specs:
        examples = ""
        if spec.examples:
            quoted = "; ".join(f'"{example}"' for example in spec.examples[:4])
            examples = f" Examples: {quoted}"
        lines.append(
            prompts.CHOICE_LINE.format(
                name=spec.name, description=spec.description.strip(), examples=examples
            )
        )
    system = prompts.ROUTER_SYSTEM.format(choices="\n".join(lines), max_steps=max_steps)
    if tried:
        system += prompts.REROUTE_NOTE.format(
            tried=", ".join(tried), reason=handoff or "no reason given"
        )
    if summary.strip():
        system += prompts.SUMMARY_NOTE.format(summary=html.escape(summary.strip(), quote=False))
    messages: list[BaseMessage] = [SystemMessage(content=system)]
    for message in recent_turns(history, question, HISTORY_TURNS):
        messages.append(type(message)(content=message.text[:HISTORY_CHARS]))
    messages.append(HumanMessage(content=question))
    return messages


FOLLOW_UP_REASON = "a follow-up to the previous answer, which the {route} agent gave"
FOLLOW_UP_MAX_WORDS = 6
_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:and|but|then|now|so|also|plus|minus|times|what\s+about|how\s+about|"
    r"what\s+if|divided|multiplied|squared|doubled|halved|double\s+it)\b|[-+*/×÷^])",
    re.IGNORECASE,
)


def follow_up_route(
    question: str, history: Sequence[BaseMessage], names: Sequence[str]
) -> str | None:
    """The agent that gave the last answer, when ``question`` is a short follow-up to it.

    "and divided by 4?", "what about 5?", "times 3": a few words that lean on the previous
    turn go where that turn went (a model asked cold routed "and divided by 4?" to the
    researcher, which searched for "divided"). No model call is made.
    """
    if len(question.split()) > FOLLOW_UP_MAX_WORDS or not _FOLLOW_UP.match(question):
        return None
    if _NEW_TOPIC.search(question):
        return None
    for message in reversed(list(history)):
        if isinstance(message, AIMessage):
            route = message.name
            return route if route in names else None
    return None


_ARITHMETIC_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:and|then|now|so)\s+)?(?:plus|minus|times|divided|multiplied|squared|doubled|"
    r"halved|double\s+it|half\s+of\s+it|[-+*/×÷^])",
    re.IGNORECASE,
)
ARITHMETIC_FOLLOW_UP_REASON = "arithmetic on the last result"


def is_arithmetic_follow_up(question: str, last_value: int | float | str | None) -> bool:
    """ "and divided by 4?" with a number from an earlier turn: arithmetic on it, whichever
    agent answered last (a fact may have come in between)."""
    return (
        last_value is not None
        and len(question.split()) <= FOLLOW_UP_MAX_WORDS
        and _ARITHMETIC_FOLLOW_UP.match(question) is not None
    )


_NEW_TOPIC = re.compile(r"\b(?:who|where|when|which|why|write|tell|story|poem)\b", re.IGNORECASE)
_EXPRESSION_LEAD_IN = re.compile(
    r"^\s*(?:(?:what\s+is|what's|calculate|compute|evaluate)\b[\s:]*)?(.*?)[\s?=]*$",
    re.IGNORECASE | re.DOTALL,
)
EXPRESSION_REASON = "the question is an arithmetic expression"


def is_bare_expression(question: str, last_value: int | float | str | None = None) -> bool:
    """Whether ``question`` is arithmetic the engine computes as it is ("12 * 7", "what is
    3 + 7?"): it goes to the calculator with no model call and no plan to rewrite it. So
    does arithmetic with no real value ("1/0", "sqrt(-1)") or too large a value ("2**99999"):
    the calculator says so."""
    from crossroads.tools.calculator import (
        OPERAND,
        CalculatorError,
        NoRealValue,
        TooLarge,
        evaluate_program,
    )

    match = _EXPRESSION_LEAD_IN.match(question)
    text = match.group(1) if match else question
    if not OPERAND.search(text) or not re.search(r"[-+*/%^×÷]|\w\(", text):
        return False
    if isinstance(last_value, str):  # a whole number past 64 bits, kept as its digits
        last_value = int(last_value)
    try:
        evaluate_program(text, {"ans": last_value} if last_value is not None else None)
    except (NoRealValue, TooLarge):
        return True
    except CalculatorError:
        return False
    return True


ClassifierGuess = Callable[[str], tuple[str, float] | None]


def shipped_router_loaded() -> bool:
    """Whether the packaged classifier is loaded in this process."""
    from crossroads.tools.offline_router import shipped_router_loaded as loaded

    return loaded()


def classifier_guess(question: str) -> tuple[str, float] | None:
    """The packaged offline classifier's route and confidence for ``question``."""
    from crossroads.tools.offline_router import OfflineRouter

    guess = OfflineRouter.load().predict(question)
    return guess.route, float(guess.confidence)


def _next_choice(question: str, names: Sequence[str]) -> str | None:
    """The route the packaged classifier ranks highest among ``names`` (the routes not tried
    yet), or ``None`` when it knows none of them (agents registered by the application)."""
    from crossroads.tools.offline_router import OfflineRouter

    scores = OfflineRouter.load().predict(question).scores
    known = [name for name in names if name in scores]
    return max(known, key=scores.__getitem__) if known else None


def default_threshold() -> float:
    """The shipped confidence threshold (tuned on the held-out split)."""
    from crossroads.tools.offline_router import DEFAULT_CONFIDENCE_THRESHOLD

    return float(DEFAULT_CONFIDENCE_THRESHOLD)


BUILTIN_ROUTES = frozenset({"math", "fact", "none"})


async def decide_route(
    settings: Settings,
    specs: Sequence[AgentSpec],
    state: dict[str, Any],
    *,
    guess: ClassifierGuess = classifier_guess,
) -> tuple[RouteDecision, ModelCaller | None]:
    """Decide the route for ``state["question"]``.

    Returns:
        The decision, and the model caller used (for its usage), if any.
    """
    question = state["question"]
    tried = [route for route in state.get("tried_routes") or [] if route]
    candidates = [spec for spec in specs if spec.name not in tried] or list(specs)
    names = [spec.name for spec in candidates]
    catch_all = FALLBACK_ROUTE if FALLBACK_ROUTE in names else names[-1]
    extra = [spec for spec in candidates if spec.name not in BUILTIN_ROUTES]
    # With agents it was not trained on, the classifier may only decide offline (where
    # nothing better exists), after those agents had their chance through their examples.
    classifier_usable = not extra or not settings.has_model

    if "math" in names and not tried and is_bare_expression(question, state.get("last_value")):
        return RouteDecision("math", EXPRESSION_REASON, None, "expression"), None
    if "math" in names and not tried and is_arithmetic_follow_up(question, state.get("last_value")):
        return RouteDecision("math", ARITHMETIC_FOLLOW_UP_REASON, None, "follow_up"), None
    follow = follow_up_route(question, state.get("messages") or [], names)
    if follow is not None:
        return RouteDecision(follow, FOLLOW_UP_REASON.format(route=follow), None, "follow_up"), None

    if extra and not settings.has_model:
        matched = match_examples(question, extra)
        if matched is not None:
            spec, overlap = matched
            reason = f"offline: shares {overlap:.0%} of its words with the {spec.name} examples"
            return RouteDecision(spec.name, reason, overlap, "examples"), None

    if classifier_usable:
        # Off the event loop the first time: loading the weights takes a tenth of a second,
        # long enough to stall every other request on the loop; then a prediction is cheaper
        # than the hop to a worker thread.
        if guess is classifier_guess and shipped_router_loaded():
            guessed = guess(question)
        else:
            guessed = await asyncio.to_thread(guess, question)
        if guessed is not None:
            route, confidence = guessed
            threshold = (
                settings.router_threshold
                if settings.router_threshold is not None
                else default_threshold()
            )
            if route in names and (not settings.has_model or confidence >= threshold):
                reason = f"offline classifier, confidence {confidence:.2f}"
                return RouteDecision(route, reason, confidence, "classifier"), None
            if not settings.has_model:
                # Re-route offline: the classifier's pick was tried; take its next choice.
                chosen = _next_choice(question, names) if guess is classifier_guess else None
                reason = OFFLINE_REROUTE.format(tried=", ".join(tried) or route)
                return RouteDecision(chosen or catch_all, reason, None, "classifier"), None
    if not settings.has_model:
        return RouteDecision(catch_all, "no model configured", None, "fallback"), None

    caller = ModelCaller(settings, state, "router")
    schema = route_schema(names)
    messages = router_messages(
        candidates,
        question,
        state.get("messages") or [],
        tried=tried,
        handoff=state.get("handoff"),
        max_steps=settings.max_plan_steps,
        summary=state.get("summary") or "",
    )
    reply = await caller.astructured(
        "router",
        schema,
        messages,
        lenient=plain_route_reader(schema, names),
        retry=lambda error: prompts.RETRY_PROMPT.format(error=error, names=", ".join(names)),
    )
    if reply.parsed is None:
        fell_back = FELL_BACK.format(error=reply.error, route=catch_all)
        return RouteDecision(catch_all, fell_back, None, "fallback"), caller
    # The schema's ``route`` is a Literal of ``names``: a parsed reply chose one of them.
    chosen = str(getattr(reply.parsed, "route", ""))
    lines = str(getattr(reply.parsed, "reason", "")).strip().splitlines()
    plan, cut = _plan_from(getattr(reply.parsed, "steps", None), settings.max_plan_steps)
    if plan:
        chosen = plan[0]["route"]
    decision = RouteDecision(
        chosen, lines[0] if lines else "", None, "llm", plan=plan, plan_cut=cut
    )
    return decision, caller


PLAIN_REASON = "read from a plain-text reply: {text}"


def plain_route_reader(schema: type[BaseModel], names: Sequence[str]) -> Any:
    """Read a plain-text router reply: the first of ``names`` it mentions, as a whole word.

    The seed's router is a plain multiple-choice question; a model that answers "math" (or
    "The answer is: fact.") instead of JSON has still answered it.
    """
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(name) for name in names) + r")(?![\w-])",
        re.IGNORECASE,
    )
    lookup = {name.casefold(): name for name in names}

    def read(text: str) -> BaseModel | None:
        match = pattern.search(text)
        if match is None:
            return None
        line = " ".join(text.split())[:120]
        return schema(
            route=lookup[match.group(1).casefold()], reason=PLAIN_REASON.format(text=line)
        )

    return read


def _plan_from(steps: Any, limit: int) -> tuple[tuple[dict[str, str], ...], int]:
    """A usable plan (two or more steps, at most ``limit``) and how many steps were cut."""
    plan = tuple(
        {"route": str(step.route), "question": str(step.question).strip()}
        for step in steps or ()
        if str(getattr(step, "question", "")).strip()
    )
    if len(plan) < 2:
        return (), 0
    return plan[:limit], max(0, len(plan) - limit)


EXAMPLE_MATCH_MIN = 0.5
"""Share of a question's content words found in an agent's examples and description for
the offline router to pick that agent."""


def _content_words(text: str) -> frozenset[str]:
    """Words that carry the topic, numbers left out ("26 miles" matches "3 miles").

    Stop words are scikit-learn's English list (not the search index's shorter one): "how
    many" is in every word problem, so it must not count as a match for a unit converter.
    """
    return frozenset(word for word in content_words(text) if not word[0].isdigit())


@lru_cache(maxsize=256)
def _vocabulary(text: str) -> frozenset[str]:
    """An agent's words, computed once per description and examples."""
    return _content_words(text)


def match_examples(question: str, specs: Sequence[AgentSpec]) -> tuple[AgentSpec, float] | None:
    """Offline routing to registered agents: the one whose examples share most words.

    Numbers are ignored ("26 miles" matches "3 miles"). Returns the agent and the share of
    the question's content words it covers, when at least :data:`EXAMPLE_MATCH_MIN`.
    """
    words = _content_words(question)
    if not words:
        return None
    best: tuple[AgentSpec, float] | None = None
    for spec in specs:
        vocabulary = _vocabulary(" ".join([spec.description, *spec.examples]))
        overlap = len(words & vocabulary) / len(words)
        if overlap >= EXAMPLE_MATCH_MIN and (best is None or overlap > best[1]):
            best = (spec, overlap)
    return best


def make_router_node(specs: Sequence[AgentSpec]) -> Any:
    """The app graph's ``router`` node for a given set of agents."""

    async def route_question(state: Any, runtime: Runtime[Settings]) -> dict[str, Any]:
        settings = run_settings(runtime)
        decision, caller = await decide_route(settings, specs, state)
        tried = [*(state.get("tried_routes") or []), decision.route]
        detail: dict[str, Any] = {
            "route": decision.route,
            "reason": decision.reason,
            "decided_by": decision.decided_by,
            "confidence": decision.confidence,
        }
        if decision.plan:
            detail["plan"] = [dict(step) for step in decision.plan]
        if decision.plan_cut:
            detail["plan_cut"] = PLAN_CUT.format(
                cut=decision.plan_cut, limit=settings.max_plan_steps
            )
        return {
            "plan": [dict(step) for step in decision.plan],
            "plan_index": 0,
            "plan_note": detail.get("plan_cut", ""),
            "route": decision.route,
            "route_reason": decision.reason,
            "route_confidence": decision.confidence,
            "tried_routes": tried,
            "handoff": None,
            "usage": caller.usage_update() if caller else {},
            "steps": [step("router", "route", detail)],
        }

    return route_question
