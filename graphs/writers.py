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
and the rules they follow are in :mod:`crossroads.agents.writers`.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from crossroads.agents import writers
from crossroads.agents.writers import WritersState
from crossroads.contract import AgentInput, AgentOutput
from crossroads.graphs.guard import NodeFn, guarded
from crossroads.settings import Settings

AGENT = "writers"


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
        writers.after_start,
        {"end": END, "write_part": "write_part", "draft_premise": "draft_premise"},
    )
    graph.add_conditional_edges(
        "draft_premise", writers.after_premise, {"plan_story": "plan_story", "assemble": "assemble"}
    )
    graph.add_conditional_edges(
        "plan_story", writers.after_plan, {"critique_plan": "critique_plan", "assemble": "assemble"}
    )
    graph.add_conditional_edges(
        "critique_plan",
        writers.after_plan_critique,
        {
            "plan_story": "plan_story",
            "review_plan": "review_plan",
            "write_part": "write_part",
            "assemble": "assemble",
        },
    )
    graph.add_conditional_edges(
        "review_plan",
        writers.after_review,
        {
            "end": END,
            "plan_story": "plan_story",
            "review_plan": "review_plan",
            "write_part": "write_part",
        },
    )
    graph.add_conditional_edges(
        "write_part",
        writers.after_write,
        {"critique_part": "critique_part", "assemble": "assemble"},
    )
    graph.add_conditional_edges(
        "critique_part",
        writers.after_part_critique,
        {"write_part": "write_part", "accept_part": "accept_part", "assemble": "assemble"},
    )
    graph.add_conditional_edges(
        "accept_part",
        writers.after_accept,
        {"update_memory": "update_memory", "assemble": "assemble"},
    )
    graph.add_conditional_edges(
        "update_memory", writers.after_update, {"write_part": "write_part", "assemble": "assemble"}
    )
    graph.add_edge("assemble", END)
    return graph
