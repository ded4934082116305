"""Model calls and prompt size per question: Crossroads against ReAct and a supervisor team.

Every system runs the shipped calculator and research suites (``crossroads/data``) with the
same **perfect scripted model**: a :class:`~crossroads.testing.ScriptedChatModel` that always
makes the right move for the system asking (the right route, the right expression, a good
query, a correct final answer). So what differs is only how many calls each design needs and
how much text it sends per call; answer quality is not compared here (that needs a real
model, and a perfect script makes every system right by construction; the accuracy column
only checks that each run really completed the task).

Systems:

* **Crossroads** (``router_threshold=None``): the shipped fast paths are on: the offline
  classifier skips the router call when it is confident, and the calculator skips extraction
  for a bare expression ("13*7").
* **Crossroads, fast paths off** (``router_threshold=1.01``): every question pays the LLM
  router: the router → specialist pipeline.
* **ReAct**: LangChain's ``create_agent`` with ``crossroads.tools.calculator.calculator_tool``
  and a ``search`` tool over the same local index (k = 5 passages, as Crossroads).
* **Supervisor**: ``langgraph-supervisor``'s ``create_supervisor`` over a math agent
  (calculator) and a research agent (search), as in its tutorial.

Prompt size is measured three ways, per question: the scripted model's input-token estimate
(about 4 characters per token of message text, the same rule for all systems), the message
characters themselves, and the characters of the tool or output schemas bound to each call
(JSON, as sent to the model; a real provider bills them as input too, but the estimate leaves
them out). ``all ch`` is messages plus schemas: the fairest single size of what is sent.

    .venv/bin/python benchmarks/cost.py

Writes ``benchmarks/out/cost.json`` and prints a short table.
"""

from __future__ import annotations

import json
import math
import platform
import re
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import PrivateAttr

from crossroads import Crossroads
from crossroads.agents.calculator_prompts import EXTRACT_SYSTEM, PHRASE_SYSTEM
from crossroads.agents.researcher_prompts import ANSWER_SYSTEM, GRADE_SYSTEM, REWRITE_SYSTEM
from crossroads.agents.router_prompts import ROUTER_SYSTEM
from crossroads.evaluation import SuiteRow, contains_answer, load_suite, resolve_suite, score_answer
from crossroads.testing import ScriptedChatModel, tool_call
from crossroads.tools.calculator import calculator_tool, evaluate_program
from crossroads.tools.passages import keyword_query
from crossroads.tools.retrievers import LocalIndex, build_index

ROOT = Path(__file__).resolve().parent
OUTPUT = ROOT / "out" / "cost.json"
CORPUS = ROOT / "corpus"
SUITES = ("calculator", "research")
K = 5

REACT_PROMPT = (
    "You are a helpful assistant. Use the calculator tool for any arithmetic and the search "
    "tool to look facts up; answer from the search results and cite them."
)
MATH_AGENT_PROMPT = "You are a math expert. Always use the calculator tool for arithmetic."
RESEARCH_AGENT_PROMPT = (
    "You are a research expert. Use the search tool to look facts up and answer from what it "
    "returns. Do not do any math."
)
SUPERVISOR_PROMPT = (
    "You are a team supervisor managing a research expert and a math expert. For facts, use "
    "research_expert. For math problems, use math_expert."
)


class MeteredModel(ScriptedChatModel):
    """A scripted model that also records the size of the schemas bound to each call."""

    _schema_chars: list[int] = PrivateAttr(default_factory=list)

    def _reply(self, messages: list[BaseMessage], run_manager: Any, **kwargs: Any) -> Any:
        tools = kwargs.get("tools") or []
        self._schema_chars.append(len(json.dumps(tools)) if tools else 0)
        return super()._reply(messages, run_manager, **kwargs)

    @property
    def schema_chars(self) -> list[int]:
        return list(self._schema_chars)


# -- the perfect model's moves ----------------------------------------------------------------


def find_row(messages: Sequence[BaseMessage], rows: Sequence[SuiteRow]) -> SuiteRow:
    """The suite row this conversation is about (the longest question found in it)."""
    text = "\n".join(str(m.content) for m in messages if isinstance(m, HumanMessage))
    found = [row for row in rows if row.question in text]
    if not found:
        raise AssertionError(f"no suite question in the prompt: {text[:200]!r}")
    return max(found, key=lambda row: len(row.question))


def computed(row: SuiteRow) -> str:
    assert row.expression is not None, row.question
    value = evaluate_program(row.expression).value
    return str(int(value)) if float(value).is_integer() else str(value)


def final_answer(row: SuiteRow) -> str:
    if row.expected_route == "math":
        return f"The answer is {computed(row)}."
    return f"{row.expected_answers[0]} [1]."


def passages_with_answer(prompt: str, row: SuiteRow) -> list[int]:
    fences = re.findall(r'<passage id="(\d+)"[^>]*>(.*?)</passage>', prompt, flags=re.DOTALL)
    return [
        int(number)
        for number, text in fences
        if any(contains_answer(text, answer) for answer in row.expected_answers)
    ]


def starts(system: str, template: str) -> bool:
    return system.startswith(template[:40])


def crossroads_oracle(rows: Sequence[SuiteRow]) -> Callable[[list[BaseMessage]], Any]:
    """Crossroads' calls: router, extract, phrase, rewrite, grade, answer."""

    def reply(messages: list[BaseMessage]) -> Any:
        system = str(messages[0].content) if isinstance(messages[0], SystemMessage) else ""
        row = find_row(messages, rows)
        prompt = "\n".join(str(m.content) for m in messages)
        if starts(system, ROUTER_SYSTEM):
            return {"route": row.expected_route, "reason": "perfect script"}
        if starts(system, EXTRACT_SYSTEM):
            return row.expression
        if starts(system, PHRASE_SYSTEM):
            return final_answer(row)
        if starts(system, REWRITE_SYSTEM):
            return {"query": keyword_query(row.question)}
        if starts(system, GRADE_SYSTEM):
            return {"relevant": passages_with_answer(prompt, row)}
        if starts(system, ANSWER_SYSTEM):
            numbers = passages_with_answer(prompt, row) or [1]
            return f"{row.expected_answers[0]} [{numbers[0]}]."
        raise AssertionError(f"unexpected Crossroads call: {system[:80]!r}")

    return reply


def agent_oracle(rows: Sequence[SuiteRow]) -> Callable[[list[BaseMessage]], Any]:
    """ReAct, the supervisor and its two agents: call the right tool, then answer."""

    def reply(messages: list[BaseMessage]) -> Any:
        system = str(messages[0].content) if isinstance(messages[0], SystemMessage) else ""
        row = find_row(messages, rows)
        last = messages[-1]
        is_math = row.expected_route == "math"
        if system == SUPERVISOR_PROMPT:
            if isinstance(last, HumanMessage):  # the user's question: hand it over
                return tool_call(
                    "transfer_to_math_expert" if is_math else "transfer_to_research_expert"
                )
            return final_answer(row)  # the expert reported back
        if isinstance(last, ToolMessage) and last.name in {"calculator", "search"}:
            return final_answer(row)
        if is_math:
            return tool_call("calculator", {"expression": row.expression})
        return tool_call("search", {"query": keyword_query(row.question)})

    return reply


# -- the systems ------------------------------------------------------------------------------


def make_search_tool(index: LocalIndex) -> Any:
    @tool("search")
    def search(query: str) -> str:
        """Search the documents; returns the best passages with their sources."""
        passages = index.search(query, K)
        if not passages:
            return "No results."
        return "\n\n".join(
            f"[{n}] {p.title} ({p.source})\n{p.text}" for n, p in enumerate(passages, start=1)
        )

    return search


def run_crossroads(
    rows: Sequence[SuiteRow], home: Path, *, router_threshold: float | None
) -> list[dict[str, Any]]:
    model = MeteredModel(default=crossroads_oracle(rows))
    app = Crossroads(
        model,
        checkpointer="memory",
        home=home,
        search_backends=("local",),
        router_threshold=router_threshold,
    )
    with app:
        return measure(model, rows, lambda question: app.ask(question).answer)


def run_react(rows: Sequence[SuiteRow], index: LocalIndex) -> list[dict[str, Any]]:
    from langchain.agents import create_agent

    model = MeteredModel(default=agent_oracle(rows))
    agent = create_agent(
        model, tools=[calculator_tool, make_search_tool(index)], system_prompt=REACT_PROMPT
    )

    def ask(question: str) -> str:
        state = agent.invoke({"messages": [HumanMessage(content=question)]})
        return str(state["messages"][-1].content)

    return measure(model, rows, ask)


def run_supervisor(rows: Sequence[SuiteRow], index: LocalIndex) -> list[dict[str, Any]]:
    from langchain.agents import create_agent
    from langgraph_supervisor import create_supervisor

    model = MeteredModel(default=agent_oracle(rows))
    math_agent = create_agent(
        model, tools=[calculator_tool], system_prompt=MATH_AGENT_PROMPT, name="math_expert"
    )
    research_agent = create_agent(
        model,
        tools=[make_search_tool(index)],
        system_prompt=RESEARCH_AGENT_PROMPT,
        name="research_expert",
    )
    team = create_supervisor(
        [research_agent, math_agent], model=model, prompt=SUPERVISOR_PROMPT
    ).compile()

    def ask(question: str) -> str:
        state = team.invoke({"messages": [HumanMessage(content=question)]})
        return str(state["messages"][-1].content)

    return measure(model, rows, ask)


def measure(
    model: MeteredModel, rows: Sequence[SuiteRow], ask: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Ask every row; what each question cost, from the model's own record of its calls."""
    measured = []
    for row in rows:
        before = len(model.calls)
        answer = ask(row.question)
        calls = model.calls[before:]
        schemas = model.schema_chars[before:]
        chars = [len(call.prompt) for call in calls]
        measured.append(
            {
                "question": row.question,
                "route": row.expected_route,
                "llm_calls": len(calls),
                "input_tokens": sum(max(1, math.ceil(c / 4)) for c in chars),
                "message_chars": sum(chars),
                "schema_chars": sum(schemas),
                "prompt_chars": sum(chars) + sum(schemas),
                "correct": score_answer(
                    answer, row.expected_answers, expected_route=row.expected_route
                ).correct,
            }
        )
    return measured


def averages(measured: Sequence[dict[str, Any]]) -> dict[str, float]:
    keys = ("llm_calls", "input_tokens", "message_chars", "schema_chars", "prompt_chars")
    count = len(measured) or 1
    result = {key: sum(m[key] for m in measured) / count for key in keys}
    result["accuracy"] = sum(m["correct"] for m in measured) / count
    result["questions"] = len(measured)
    return result


def main() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    rows = [row for name in SUITES for row in load_suite(resolve_suite(name))]
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        build_index([CORPUS], home / "index")
        index = LocalIndex(home / "index")
        systems = {
            "Crossroads": run_crossroads(rows, home, router_threshold=None),
            "Crossroads, fast paths off": run_crossroads(rows, home, router_threshold=1.01),
            "ReAct (create_agent)": run_react(rows, index),
            "Supervisor (langgraph-supervisor)": run_supervisor(rows, index),
        }
    summary: dict[str, Any] = {}
    for name, measured in systems.items():
        summary[name] = {
            "all": averages(measured),
            "math": averages([m for m in measured if m["route"] == "math"]),
            "fact": averages([m for m in measured if m["route"] == "fact"]),
        }
    react = summary["ReAct (create_agent)"]["all"]
    for entry in summary.values():
        entry["all"]["input_tokens_vs_react"] = entry["all"]["input_tokens"] / react["input_tokens"]
        entry["all"]["calls_vs_react"] = entry["all"]["llm_calls"] / react["llm_calls"]
        entry["all"]["prompt_chars_vs_react"] = entry["all"]["prompt_chars"] / react["prompt_chars"]
    result = {
        "benchmark": "cost",
        "suites": list(SUITES),
        "questions": len(rows),
        "model": "ScriptedChatModel, perfect script (input tokens estimated at ~4 chars each)",
        "python": platform.python_version(),
        "summary": summary,
        "per_question": systems,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2), encoding="utf-8")

    print(f"{len(rows)} questions ({', '.join(SUITES)} suites), perfect scripted model")
    header = f"{'system':<36}{'calls':>7}{'math':>6}{'fact':>6}{'in tok':>8}{'vs ReAct':>9}"
    print(header + f"{'msg ch':>8}{'schema ch':>10}{'all ch':>8}{'vs ReAct':>9}{'right':>7}")
    for name, entry in summary.items():
        total = entry["all"]
        print(
            f"{name:<36}{total['llm_calls']:>7.2f}{entry['math']['llm_calls']:>6.2f}"
            f"{entry['fact']['llm_calls']:>6.2f}{total['input_tokens']:>8.0f}"
            f"{total['input_tokens_vs_react']:>9.2f}{total['message_chars']:>8.0f}"
            f"{total['schema_chars']:>10.0f}{total['prompt_chars']:>8.0f}"
            f"{total['prompt_chars_vs_react']:>9.2f}{total['accuracy']:>7.0%}"
        )
    print(f"JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
