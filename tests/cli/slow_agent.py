"""Agents for the chat tests: math/fact echo, and a writer that streams slowly."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from crossroads.contract import AgentInput, AgentOutput, AgentState
from crossroads.graphs.guard import guarded
from crossroads.llm import ModelCaller
from crossroads.registry import AgentSpec
from crossroads.settings import Settings
from tests.helpers import echo_specs


async def write(state: AgentState, runtime: Runtime[Settings]) -> dict[str, Any]:
    if "slow" in state["question"]:
        await asyncio.sleep(30)  # long enough for the test to press Ctrl-C
    caller = ModelCaller(runtime.context, state, "writers.write")
    reply = await caller.ainvoke("writer", [HumanMessage(content=state["question"])], answer=True)
    return {"answer": str(reply.content), "usage": caller.usage_update()}


def build_writer() -> StateGraph[Any, Any, Any, Any]:
    graph = StateGraph(AgentState, input_schema=AgentInput, output_schema=AgentOutput)
    graph.add_node("write", guarded("writers", "write", write))
    graph.add_edge(START, "write")
    graph.add_edge("write", END)
    return graph


def slow_writer_specs() -> list[AgentSpec]:
    math, fact, none = echo_specs()
    writer = AgentSpec(
        name="none", node="writers", description=none.description, build=build_writer
    )
    return [math, fact, writer]
