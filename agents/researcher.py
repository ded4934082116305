"""The research agent (RAG): rewrite → retrieve → grade (⇄ rewrite) → answer, with sources.

The model does the "look back at what you were given" steps and nothing else:

1. **rewrite**: turn the question into a short search query ("gee, I'm wondering whether they
   make those pyramids that are in like Egypt or something" → "Egyptian pyramids"), with one
   structured-output call. Offline, or when that call fails, the query is the question's
   content words (stop words removed): no model needed.
2. **retrieve**: search the configured backends through a
   :class:`~crossroads.tools.retrievers.MultiRetriever` (``k = settings.max_passages`` each);
   a backend that is down, slow or rate-limited is retried once and then reported, while the
   others still answer.
3. **grade**: keep the passages that bear on the question. A cheap term-overlap check decides
   the clear cases (most of the query's terms present: keep; none of the query's or the
   question's terms: drop); the model is asked only about the unsure ones, in one call that lists the
   relevant passage numbers. When nothing is kept, the query is rewritten once more (at most
   ``min(settings.max_tries, MAX_SEARCH_ROUNDS)`` searches), unless every backend failed,
   where a new query would not help.
4. **answer**: from the original question, the query and the kept passages, with inline
   citations ``[1]``; citation numbers that match no passage are removed (and reported in the
   step), and the rest are renumbered so that ``[n]`` is ``sources[n-1]``. An answer that
   cites no passage at all (small models drop the markers and add facts of their own) is
   replaced by the extractive answer, marked as such, or by "I don't know". Nothing relevant:
   "I don't know", plus what was searched where, and what failed. Offline: an extractive answer
   (the best-matching sentences, each with its source), marked as such.

**Retrieved text is untrusted data.** It reaches the model only inside
``<passage id=".." ...>`` fences in the user message, escaped so that it cannot close its
fence or open a tag of its own, and the system prompts say that text inside a fence is never
an instruction. It is never put into a system prompt, and this agent never sets
``last_value`` (the calculator's input).

Node functions are here; their prompts are in :mod:`crossroads.agents.researcher_prompts`,
the model-free text work (content words, fences, citations, the extractive answer) in
:mod:`crossroads.tools.passages` and :mod:`crossroads.tools.text`, and
:mod:`crossroads.graphs.researcher` holds the one decision (search again?) and the wiring.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from crossroads.agents import researcher_prompts as prompts
from crossroads.contract import AgentState, Source, conversation_lines, run_settings, step
from crossroads.errors import CrossroadsError
from crossroads.llm import ModelCaller
from crossroads.search import (
    NETWORK_BACKENDS,
    SKIP_OFFLINE,
    SearchFactory,
    SearchSetup,
    make_search,
)
from crossroads.settings import Settings
from crossroads.tools.passages import (
    MAX_QUERY_CHARS,
    MIN_SUPPORT,
    PassageRecord,
    answer_type,
    check_citations,
    clean_query,
    extractive_answer,
    fence_passages,
    is_direct,
    keyword_query,
    passage_support,
    topic_terms,
)
from crossroads.tools.retrievers import MultiRetriever, Passage, Retriever
from crossroads.tools.text import clip, content_terms, content_words, fold, split_sentences

AGENT = "researcher"

MAX_SEARCH_ROUNDS = 2
"""Searches per question at most: the first query and one rewrite after nothing relevant
(``settings.max_tries`` can only lower it). A third wording rarely finds what two missed."""

KEEP_COVERAGE = 0.75
"""Share of the query's terms a passage must contain to be kept without asking the model..."""
KEEP_SHARED_TERMS = 2
"""...or at least this many of them, when that is half of the query or more (a keyword query
made from a chatty question carries a stray word or two)."""
KEEP_SHARED_COVERAGE = 0.5
OFFLINE_KEEP_COVERAGE = 0.5
"""Offline there is no model to ask: unsure passages with at least this share are kept."""
HISTORY_TURNS = 4
HISTORY_CHARS = 300
SNIPPET_CHARS = 200

# -- user-visible texts ---------------------------------------------------------------------

EXTRACTIVE_PREFIX = "From your documents (extractive, no model): "
OFFLINE_UNSUPPORTED = (
    "I don't know: no passage in your documents mentions {missing}. Index documents that "
    "cover it (`crossroads index PATH`), or configure a model to search the web."
)
OFFLINE_NO_TYPE = (
    "I don't know: your documents mention {topic} but no sentence gives {wanted}. Try a "
    "simpler phrasing, or configure a model."
)
UNSUPPORTED = "I don't know: no passage found mentions {missing}."
NO_TYPE = "I don't know: the passages found mention {topic} but no sentence gives {wanted}."
"""The two declines above when a model is configured (its answer failed or cited nothing):
the passages may come from the web, and configuring a model is no advice."""
EXTRACTIVE_AFTER_MODEL_FAILURE = "The model failed, so here are the best-matching sentences. "
EXTRACTIVE_UNCITED = (
    "The model's answer cited none of the passages, so here are the best-matching sentences. "
)
DONT_KNOW = "I don't know: I found nothing relevant to your question."
MODEL_ANSWER_KEPT_CHARS = 500
"""How much of a replaced model answer its step keeps (``model_answer``), to show what it was."""
DONT_KNOW_OPENING = "i don't know"
"""How an answer that says it has none begins, case folded (the answer prompt asks for it)."""
NOT_ABOUT_IT = "the model's query {query!r} shares no word with the question or the conversation"
NOTHING_SEARCHABLE = "I don't know: there was nothing I could search."
FACTS_HINT = (
    " To answer facts without a model, index a folder of documents (`crossroads index PATH`; "
    "`crossroads index --example` indexes a small example set) or point CROSSROADS_ZIM at a "
    "Wikipedia .zim file."
)
ALL_FAILED = "I could not look this up: every search source failed."
SEARCHED = " I searched {backends} for {queries}."
FAILED = " {backend} failed: {why}"
SKIPPED = " Not searched: {notes}."
ERROR_ALL_FAILED = "all search backends failed: {failures}"
ERROR_NO_BACKEND = "no search backend could be used: {notes}"
ERROR_MODEL_DEGRADED = "the model failed ({error}); answered extractively from the passages"


# -- state -----------------------------------------------------------------------------------


class SearchRound(TypedDict):
    """One search: what was asked where, and what failed."""

    query: str
    backends: list[str]
    failed: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    retrieved: int


class ResearchState(AgentState, total=False):
    """The research agent's internal state: the agent contract plus private keys."""

    query: str
    """The current search query."""
    rounds: list[SearchRound]
    """Every search so far, in order (for steps and for "what was searched")."""
    retrieved: list[PassageRecord]
    """Passages of the latest search, best first within each backend."""
    kept: list[PassageRecord]
    """Passages the grader kept from the latest search, most relevant first."""
    model_failure: str | None
    """Why a model call failed when the agent went on without it (degraded, not stopped)."""


# -- text helpers -----------------------------------------------------------------------------


def offline_decline(
    question: str, passages: Sequence[PassageRecord], query: str = "", *, offline: bool = True
) -> str | None:
    """Why an extractive answer from ``passages`` would be a guess, or ``None`` if it is not.

    The topic comes from ``query`` when a model wrote it (it drops chatty words such as
    "wondering whether they make"), else from the question. ``offline=False``: the texts for
    a configured model, which say nothing of "your documents" or of configuring one.

    Declines when no passage holds all of the question's topic terms (see
    :data:`MIN_SUPPORT`), or when the question asks for a kind of answer (a measurement, a
    date, a person, a number) that no supporting sentence contains.
    """
    about = query or question
    topic = topic_terms(about)
    supported = [p for p in passages if passage_support(about, p) >= MIN_SUPPORT]
    if not topic or not supported:
        found: set[str] = set()
        for passage in passages:
            found |= topic & content_terms(passage["title"] + " " + passage["text"])
        missing = sorted(topic - found) or sorted(content_terms(question))
        return (OFFLINE_UNSUPPORTED if offline else UNSUPPORTED).format(
            missing=_join_words([f'"{word}"' for word in _as_asked(missing, about)]) or "it"
        )
    kind = answer_type(question)
    if kind is not None:
        pattern, words = kind
        if not any(pattern.search(s) for p in supported for s in split_sentences(p["text"])):
            return (OFFLINE_NO_TYPE if offline else NO_TYPE).format(
                topic=_join_words([f'"{word}"' for word in _as_asked(sorted(topic), about)]),
                wanted=words,
            )
    return None


def _as_asked(terms: Sequence[str], text: str) -> list[str]:
    """``terms`` (plural-folded: "mars" is "mar") as ``text`` wrote them, for the user."""
    written = {fold(word): word for word in content_words(text)}
    return [written.get(term, term) for term in terms]


def sources_for(passages: Sequence[PassageRecord], cited: Sequence[int]) -> list[Source]:
    """``Source`` entries for the cited passage numbers, indexed from 1 in citation order."""
    sources: list[Source] = []
    for index, number in enumerate(cited, start=1):
        passage = passages[number - 1]
        snippet = " ".join(passage["text"].split())
        sources.append(
            {
                "index": index,
                "title": passage["title"],
                "url": passage["source"],
                "backend": passage["backend"],
                "snippet": snippet[:SNIPPET_CHARS],
            }
        )
    return sources


def searched_summary(rounds: Sequence[SearchRound]) -> str:
    """What was searched where, what failed and what was skipped, as sentences."""
    queries = [clip(q, SHOWN_QUERY_CHARS) for q in dict.fromkeys(r["query"] for r in rounds)]
    backends = list(dict.fromkeys(b for r in rounds for b in r["backends"]))
    text = ""
    if backends:
        text += SEARCHED.format(
            backends=_join_words(backends), queries=_join_words([f'"{q}"' for q in queries])
        )
    failed = dict(pair for r in rounds for pair in r["failed"])
    for backend, why in failed.items():
        text += FAILED.format(backend=backend, why=why.rstrip("."))
        text += "."
    skipped = dict(pair for r in rounds for pair in r["skipped"])
    if skipped:
        notes = "; ".join(f"{backend} ({why})" for backend, why in skipped.items())
        text += SKIPPED.format(notes=notes)
    return text


SHOWN_QUERY_CHARS = 80
"""Longest query quoted back in an answer (a pasted page, or a model's runaway rewrite,
would otherwise fill the terminal)."""


def _join_words(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def rounds_allowed(settings: Settings) -> int:
    """Searches one question may make: ``max_tries``, at most ``MAX_SEARCH_ROUNDS``."""
    return max(1, min(settings.max_tries, MAX_SEARCH_ROUNDS))


def _history(state: ResearchState, question: str) -> str:
    turns = conversation_lines(
        state.get("messages") or [],
        question,
        summary=state.get("summary") or "",
        last=HISTORY_TURNS,
        chars=HISTORY_CHARS,
    )
    return prompts.REWRITE_CONVERSATION.format(turns="\n".join(turns)) if turns else ""


def _what_was_said(state: ResearchState) -> set[str]:
    """The terms of the question, the thread's messages and its summary: a query that shares
    none of them is not about this conversation."""
    said = [state["question"], state.get("summary") or ""]
    said += [message.text for message in state.get("messages") or []]
    return content_terms(" ".join(said))


# -- nodes --------------------------------------------------------------------------------


class SearchQuery(BaseModel):
    """A search query for the user's question."""

    query: str = Field(description="A short search query: a few words, no quotes.")


class RelevantPassages(BaseModel):
    """Which passages help answer the question."""

    relevant: list[int] = Field(
        default_factory=list, description="Numbers of the passages that help; empty if none."
    )


async def rewrite_query(state: ResearchState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Write the search query for this round (the model online, keywords offline)."""
    settings = run_settings(runtime)
    question = state["question"]
    rounds = state.get("rounds") or []
    tried = [r["query"] for r in rounds]
    fallback = keyword_query(question)
    if not settings.has_model or (not tried and is_direct(question)):
        by = "keywords" if not settings.has_model else "keywords (direct question)"
        return {
            "query": fallback,
            "steps": [step(AGENT, "rewrite", {"query": fallback, "round": 1, "by": by})],
        }

    caller = ModelCaller(settings, state, f"{AGENT}.rewrite")
    human = prompts.REWRITE_HUMAN.format(conversation=_history(state, question), question=question)
    if tried:
        human += prompts.REWRITE_AGAIN.format(tried=", ".join(f'"{q}"' for q in tried))
    messages = [SystemMessage(content=prompts.REWRITE_SYSTEM), HumanMessage(content=human)]
    detail: dict[str, Any] = {"round": len(tried) + 1}
    model_failure = state.get("model_failure")
    try:
        reply = await caller.astructured(AGENT, SearchQuery, messages)
    except CrossroadsError as error:
        # No usable model (budget spent, provider down): keywords still make a fair query.
        query, detail["by"], detail["why"] = "", "keywords", str(error)
        model_failure = str(error)
    else:
        query = clean_query(str(getattr(reply.parsed, "query", "") or ""))
        detail["by"] = "model"
        if not query:
            detail["by"], detail["why"] = "keywords", reply.error or "empty query"
        elif not content_terms(query) & _what_was_said(state):
            # Small models echo what they were shown: SmolLM2 answered with the schema's
            # own description, "A search query for the user's question."
            detail["by"], detail["why"] = "keywords", NOT_ABOUT_IT.format(query=clip(query, 80))
            query = ""
    seen = {q.casefold() for q in tried}
    if not query or query.casefold() in seen:
        if query:
            detail["why"] = f"the model repeated {query!r}"
            detail["by"] = "keywords"
        query = fallback if fallback.casefold() not in seen else " ".join(question.split())
    detail["query"] = query
    return {
        "query": query[:MAX_QUERY_CHARS],
        "model_failure": model_failure,
        "usage": caller.usage_update(),
        "steps": [step(AGENT, "rewrite", detail)],
    }


def _as_setup(made: SearchSetup | MultiRetriever | Retriever, *, offline: bool) -> SearchSetup:
    """Normalise what a search factory returned; drop network backends offline."""
    if isinstance(made, SearchSetup):
        setup = made
    elif isinstance(made, MultiRetriever):
        setup = SearchSetup(retriever=made)
    else:
        setup = SearchSetup(retriever=MultiRetriever([made], retries=0))
    multi = setup.retriever
    if not offline or multi is None or not set(multi.names) & NETWORK_BACKENDS:
        return setup
    # A custom factory may not know about offline mode; the promise holds anyway.
    local = [b for b in multi.backends if b.name not in NETWORK_BACKENDS]
    skipped = setup.skipped + tuple(
        (name, SKIP_OFFLINE) for name in multi.names if name in NETWORK_BACKENDS
    )
    if not local:
        return SearchSetup(retriever=None, skipped=skipped)
    narrowed = MultiRetriever(
        local,
        retries=multi.retries,
        backoff=multi.backoff,
        max_delay=multi.max_delay,
        stop_at_first=multi.stop_at_first,
    )
    return SearchSetup(retriever=narrowed, skipped=skipped)


def _record(passage: Passage) -> PassageRecord:
    return {
        "title": passage.title,
        "text": passage.text,
        "source": passage.source,
        "backend": passage.backend,
        "score": float(passage.score),
    }


def make_retrieve_node(
    search_factory: SearchFactory | None = None,
) -> Callable[[ResearchState, Runtime[Settings]], Any]:
    """The ``retrieve`` node, searching with what ``search_factory(settings)`` returns.

    Args:
        search_factory: Builds the retriever for a run's settings; it may return a
            :class:`SearchSetup`, a :class:`MultiRetriever` or any single ``Retriever``.
            Default: :func:`crossroads.search.make_search`.
    """
    factory: SearchFactory = search_factory or make_search

    async def retrieve(state: ResearchState, runtime: Runtime[Settings]) -> dict[str, Any]:
        settings = run_settings(runtime)
        query = state["query"]
        setup = _as_setup(factory(settings), offline=not settings.has_model)
        round_number = len(state.get("rounds") or []) + 1
        runtime.stream_writer(
            {"type": "search", "agent": AGENT, "query": query, "round": round_number}
        )
        passages: list[PassageRecord] = []
        failed: list[tuple[str, str]] = []
        backends: list[str] = []
        if setup.retriever is not None:
            backends = setup.retriever.names
            # The retrievers block (requests, file reads): keep the event loop free.
            outcome = await asyncio.to_thread(setup.retriever.search, query, settings.max_passages)
            passages = [_record(p) for p in outcome.passages]
            failed = list(outcome.failures)
        search_round: SearchRound = {
            "query": query,
            "backends": backends,
            "failed": failed,
            "skipped": list(setup.skipped),
            "retrieved": len(passages),
        }
        detail = {
            "query": query,
            "round": round_number,
            "backends": backends,
            "failed": [{"backend": b, "error": why} for b, why in failed],
            "skipped": [{"backend": b, "why": why} for b, why in setup.skipped],
            "retrieved": len(passages),
        }
        return {
            "rounds": [*(state.get("rounds") or []), search_round],
            "retrieved": passages,
            "kept": [],
            "steps": [step(AGENT, "retrieve", detail)],
        }

    return retrieve


async def grade_passages(state: ResearchState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Keep the passages that bear on the question (cheap check first, the model if unsure)."""
    settings = run_settings(runtime)
    question = state["question"]
    query_terms = content_terms(state.get("query") or "")
    question_terms = content_terms(question)
    retrieved = state.get("retrieved") or []
    kept: list[PassageRecord] = []
    unsure: list[PassageRecord] = []
    dropped = 0
    for passage in retrieved:
        terms = content_terms(passage["title"] + " " + passage["text"])
        shared = len(query_terms & terms)
        coverage = shared / len(query_terms) if query_terms else 0.0
        graded: PassageRecord = {**passage, "coverage": coverage}
        if coverage >= KEEP_COVERAGE or (
            shared >= KEEP_SHARED_TERMS and coverage >= KEEP_SHARED_COVERAGE
        ):
            kept.append(graded)
        elif coverage == 0 and not question_terms & terms:
            dropped += 1
        else:
            unsure.append(graded)

    detail: dict[str, Any] = {"retrieved": len(retrieved), "sure": len(kept) + dropped}
    update: dict[str, Any] = {}
    if unsure and settings.has_model:
        caller = ModelCaller(settings, state, f"{AGENT}.grade")
        messages = [
            SystemMessage(content=prompts.GRADE_SYSTEM),
            HumanMessage(
                content=prompts.GRADE_HUMAN.format(
                    question=question, passages=fence_passages(unsure)
                )
            ),
        ]
        detail["asked_model"] = len(unsure)
        try:
            reply = await caller.astructured(AGENT, RelevantPassages, messages)
        except CrossroadsError as error:
            # Keep them: the answer step still says "I don't know" when they do not help.
            kept.extend(unsure)
            detail["model_failed"] = str(error)
            update["model_failure"] = str(error)
        else:
            if reply.parsed is None:
                kept.extend(unsure)
                detail["model_unusable"] = reply.error
            else:
                chosen = {n for n in getattr(reply.parsed, "relevant", []) if isinstance(n, int)}
                kept.extend(p for i, p in enumerate(unsure, start=1) if i in chosen)
        update["usage"] = caller.usage_update()
    elif unsure:
        kept.extend(p for p in unsure if p.get("coverage", 0.0) >= OFFLINE_KEEP_COVERAGE)

    # Most relevant first (stable, so each backend's own order breaks ties), at most k.
    kept.sort(key=lambda p: -p.get("coverage", 0.0))
    kept = kept[: settings.max_passages]
    detail["kept"] = len(kept)
    detail["kept_titles"] = [p["title"] for p in kept]
    return {**update, "kept": kept, "steps": [step(AGENT, "grade", detail)]}


def _nothing_found(state: ResearchState, *, declines: bool) -> dict[str, Any]:
    rounds = state.get("rounds") or []
    searched = searched_summary(rounds)
    tried = {b for r in rounds for b in r["backends"]}
    failed = dict(pair for r in rounds for pair in r["failed"])
    error: str | None = None
    if not tried:
        # The why (each backend's note) is in ``error``; the answer says what to do, once.
        answer = NOTHING_SEARCHABLE + FACTS_HINT
        notes = "; ".join(f"{b}: {why}" for r in rounds for b, why in r["skipped"])
        error = ERROR_NO_BACKEND.format(notes=notes or "none configured")
    elif rounds and len(rounds[-1]["failed"]) == len(rounds[-1]["backends"]):
        answer = ALL_FAILED + searched
        error = ERROR_ALL_FAILED.format(
            failures="; ".join(f"{b}: {why}" for b, why in failed.items())
        )
    else:
        answer = DONT_KNOW + searched
    detail: dict[str, Any] = {
        "outcome": "nothing relevant" if tried else "nothing searchable",
        "queries": [r["query"] for r in rounds],
        "rewrites": max(0, len(rounds) - 1),
    }
    if error is None and declines:
        # Offline, nothing relevant in the user's documents is a decline, as when a passage
        # matched but did not support an answer: the request ends without one either way.
        detail["declined"] = DONT_KNOW
    return {"answer": answer, "error": error, "steps": [step(AGENT, "answer", detail)]}


def _extractive(state: ResearchState, *, why: str | None, uncited: bool = False) -> dict[str, Any]:
    """The extractive answer: offline, after the model failed (``why``), or in place of a
    model answer that cited none of the passages (``uncited``)."""
    kept = state.get("kept") or []
    rounds = state.get("rounds") or []
    offline = why is None and not uncited
    # Offline the query is the question's own keywords; a model's rewrite is a better topic.
    about = "" if offline else state.get("query") or ""
    declined = offline_decline(state["question"], kept, about, offline=offline)
    if declined is not None:
        detail: dict[str, Any] = {
            "mode": "extractive",
            "declined": declined,
            "queries": [r["query"] for r in rounds],
        }
        return {"answer": declined, "sources": [], "steps": [step(AGENT, "answer", detail)]}
    kept = [p for p in kept if passage_support(about or state["question"], p) >= MIN_SUPPORT]
    text, cited = extractive_answer(state["question"], state.get("query") or "", kept)
    if not text and kept and answer_type(state["question"]) is not None:
        kind = answer_type(state["question"])
        assert kind is not None
        declined = (OFFLINE_NO_TYPE if offline else NO_TYPE).format(
            topic=_join_words([f'"{w}"' for w in sorted(topic_terms(state["question"]))]),
            wanted=kind[1],
        )
        return {
            "answer": declined,
            "sources": [],
            "steps": [step(AGENT, "answer", {"mode": "extractive", "declined": declined})],
        }
    if not text:
        return _nothing_found(state, declines=why is None)
    prefix = (
        EXTRACTIVE_PREFIX
        if offline
        else EXTRACTIVE_UNCITED
        if why is None
        else EXTRACTIVE_AFTER_MODEL_FAILURE
    )
    detail = {
        "mode": "extractive",
        "cited": len(cited),
        "queries": [r["query"] for r in rounds],
        "rewrites": max(0, len(rounds) - 1),
    }
    update: dict[str, Any] = {
        "answer": prefix + text,
        "sources": sources_for(kept, cited),
        "steps": [step(AGENT, "answer", detail)],
    }
    if why is not None:
        update["error"] = ERROR_MODEL_DEGRADED.format(error=why)
    return update


async def answer_question(state: ResearchState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Answer from the kept passages with checked citations, or say "I don't know"."""
    settings = run_settings(runtime)
    kept = state.get("kept") or []
    if not kept:
        return _nothing_found(state, declines=not settings.has_model)
    if not settings.has_model:
        return _extractive(state, why=None)
    if state.get("model_failure"):
        return _extractive(state, why=state.get("model_failure"))

    caller = ModelCaller(settings, state, f"{AGENT}.answer")
    messages = [
        SystemMessage(content=prompts.ANSWER_SYSTEM),
        HumanMessage(
            content=prompts.ANSWER_HUMAN.format(
                question=state["question"],
                query=html.escape(state.get("query") or "", quote=False),
                passages=fence_passages(kept),
            )
        ),
    ]
    try:
        reply = await caller.ainvoke(AGENT, messages, answer=True)
    except CrossroadsError as error:
        update = _extractive(state, why=str(error))
        return {**update, "usage": caller.usage_update()}
    answer, cited, invalid = check_citations(reply.text, len(kept))
    rounds = state.get("rounds") or []
    detail: dict[str, Any] = {
        "mode": "llm",
        "cited": len(cited),
        "queries": [r["query"] for r in rounds],
        "rewrites": max(0, len(rounds) - 1),
    }
    if invalid:
        detail["removed_citations"] = invalid
    if not cited and answer and not answer.casefold().startswith(DONT_KNOW_OPENING):
        # Every statement must cite its passage; an answer citing none cannot be traced to
        # what was found. SmolLM2 cited none in 10 of 10 answers about the example corpus,
        # and added facts of its own ("built by the British"). The passages' own sentences,
        # cited, replace it (or "I don't know" when none answers).
        update = _extractive(state, why=None, uncited=True)
        update["steps"] = [
            step(
                AGENT,
                "answer",
                {
                    **detail,
                    "uncited": True,
                    "replaced_by": "extractive",
                    "model_answer": clip(answer, MODEL_ANSWER_KEPT_CHARS),
                },
            ),
            *update["steps"],
        ]
        return {**update, "usage": caller.usage_update()}
    if not cited:
        detail["uncited"] = True
    return {
        "answer": answer or DONT_KNOW + searched_summary(rounds),
        "sources": sources_for(kept, cited),
        "usage": caller.usage_update(),
        "steps": [step(AGENT, "answer", detail)],
    }
