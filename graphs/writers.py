"""The writers agent's subgraph: creative → planner ⇄ critic → (writer ⇄ critic)* → assemble.

```
START → start_request ─┬─ END                                  (offline: a polite decline)
                       ├─ write_part                           (short request: one part)
                       └─ draft_premise → plan_story → critique_plan ─┬─ plan_story   (revise)
                                                                      ├─ review_plan  (review)
                                                                      └─ write_part
review_plan ─┬─ write_part   (approved or edited)
             ├─ plan_story   (a person's feedback)
             ├─ review_plan  (edits that could not be used)
             └─ END          (stopped)
write_part → critique_part ─┬─ write_part   (revise, while revisions are left)
                            └─ accept_part ─┬─ update_memory → write_part  (more parts)
                                            └─ assemble → END
```

Every node that calls a model is wrapped with :func:`~crossroads.graphs.guard.guarded`; a
failure (a spent budget, a model that failed for good) sends the run to ``assemble``, which
answers with what was written so far and a note saying why it stopped. The nodes, prompts
and the rules they follow are in :mod:`crossroads.agents.writers`; the decisions between them
(``after_*``) are here, next to the edges they drive.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from crossroads.agents import writers
from crossroads.agents.writers import WritersState
from crossroads.contract import AgentInput, AgentOutput
from crossroads.graphs.guard import NodeFn, guarded
from crossroads.settings import Settings

AGENT = "writers"


# -- decisions: which node runs next (async, so LangGraph runs them on the event loop) --


async def after_start(state: WritersState) -> str:
    """Offline → end; short → write at once; long → the creative's premise."""
    if not state.get("shape"):
        return "end"
    return "write_part" if state["shape"]["short"] else "draft_premise"


async def after_premise(state: WritersState) -> str:
    """On to the planner, unless the creative's call failed."""
    return "assemble" if state.get("error") else "plan_story"


async def after_plan(state: WritersState) -> str:
    """Critic checks every plan, unless the planner's call failed."""
    return "assemble" if state.get("error") else "critique_plan"


async def after_plan_critique(state: WritersState) -> str:
    """Back to the planner with issues; else to review (if wanted) or to the first part."""
    if state.get("error"):
        return "assemble"
    if state.get("plan_issues"):
        return "plan_story"
    return "review_plan" if state.get("review_wanted") else "write_part"


async def after_review(state: WritersState) -> str:
    """Approved or edited → write; feedback → planner; invalid edits → ask again; stop → end."""
    outcome = state.get("review_outcome")
    if outcome == "stopped":
        return "end"
    if outcome == "feedback":
        return "plan_story"
    if outcome == "invalid":
        return "review_plan"
    return "write_part"


async def after_write(state: WritersState) -> str:
    """Critic checks every draft, unless the writer's call failed."""
    return "assemble" if state.get("error") else "critique_part"


async def after_part_critique(state: WritersState) -> str:
    """Revise while allowed, else accept (approved or best draft)."""
    if state.get("error"):
        return "assemble"
    return "write_part" if state.get("part_verdict") == "revise" else "accept_part"


async def after_accept(state: WritersState) -> str:
    """Update the shared memory before the next part; after the last part, assemble."""
    plan = state.get("plan") or {}
    remaining = len(plan.get("parts") or []) - state.get("part_index", 0)
    return "update_memory" if remaining > 0 else "assemble"


async def after_update(state: WritersState) -> str:
    """Next part, unless the update's call failed."""
    return "assemble" if state.get("error") else "write_part"


def build_writers_graph() -> StateGraph[WritersState, Settings, AgentInput, AgentOutput]:
    """Build the writers subgraph (uncompiled: the caller picks the checkpointer).

    ``Settings.review`` needs a checkpointer: the run pauses after the plan with
    :func:`langgraph.types.interrupt` and resumes with ``Command(resume=...)``.
    """
    graph = StateGraph(
        WritersState, context_schema=Settings, input_schema=AgentInput, output_schema=AgentOutput
    )
    nodes: dict[str, NodeFn] = {
        "start_request": writers.start_request,
        "draft_premise": writers.draft_premise,
        "plan_story": writers.plan_story,
        "critique_plan": writers.critique_plan,
        "review_plan": writers.review_plan,
        "write_part": writers.write_part,
        "critique_part": writers.critique_part,
        "accept_part": writers.accept_part,
        "update_memory": writers.update_memory,
        "assemble": writers.assemble,
    }
    for name, node in nodes.items():
        graph.add_node(name, guarded(AGENT, name, node))

    graph.add_edge(START, "start_request")
    graph.add_conditional_edges(
        "start_request",
        after_start,
        {"end": END, "write_part": "write_part", "draft_premise": "draft_premise"},
    )
    graph.add_conditional_edges(
        "draft_premise", after_premise, {"plan_story": "plan_story", "assemble": "assemble"}
    )
    graph.add_conditional_edges(
        "plan_story", after_plan, {"critique_plan": "critique_plan", "assemble": "assemble"}
    )
    graph.add_conditional_edges(
        "critique_plan",
        after_plan_critique,
        {
            "plan_story": "plan_story",
            "review_plan": "review_plan",
            "write_part": "write_part",
            "assemble": "assemble",
        },
    )
    graph.add_conditional_edges(
        "review_plan",
        after_review,
        {
            "end": END,
            "plan_story": "plan_story",
            "review_plan": "review_plan",
            "write_part": "write_part",
        },
    )
    graph.add_conditional_edges(
        "write_part",
        after_write,
        {"critique_part": "critique_part", "assemble": "assemble"},
    )
    graph.add_conditional_edges(
        "critique_part",
        after_part_critique,
        {"write_part": "write_part", "accept_part": "accept_part", "assemble": "assemble"},
    )
    graph.add_conditional_edges(
        "accept_part",
        after_accept,
        {"update_memory": "update_memory", "assemble": "assemble"},
    )
    graph.add_conditional_edges(
        "update_memory", after_update, {"write_part": "write_part", "assemble": "assemble"}
    )
    graph.add_edge("assemble", END)
    return graph
