"""Write the tour notebooks in ``notebooks/`` from the cells below.

The notebooks are generated, not edited by hand, so that they are reviewed as code and are
committed with no outputs and no execution counts (``tests/notebooks`` checks both, and that
the committed files match this script). After changing a cell here, run::

    .venv/bin/python scripts/make_notebooks.py

Every notebook starts with the same kind of cell: it says whether this run uses a real chat
model (``GOOGLE_API_KEY`` or ``CROSSROADS_MODEL`` is set) or works without one, with a
:class:`~crossroads.testing.ScriptedChatModel` or in offline mode. Notebooks use top-level
``await`` (``await app.aask(...)``), which Jupyter's IPython kernel runs on its own loop.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def md(text: str) -> tuple[str, str]:
    """A Markdown cell."""
    return ("markdown", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    """A code cell."""
    return ("code", text.strip("\n"))


def mode_cell(fallback: str) -> tuple[str, str]:
    """The first code cell: which mode this run uses, and what it falls back to."""
    fallback_prints = "\n".join(
        f"    print({line!r})" for line in textwrap.wrap(fallback, width=78)
    )
    return code(
        f"""
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
{fallback_prints}
"""
    )


# --- 01: quickstart ---------------------------------------------------------------------

QUICKSTART = [
    md(
        """
# Crossroads quickstart

Ask a math, a fact and a "none" question; see which agent the router chose, the sources and
the model usage; then draw the app graph. **The first code cell tells which mode this run
uses**: a real chat model when your environment has a key, offline mode otherwise (no key
needed: a small classifier routes, a rule-based reader does simple word problems, facts come
from your own documents).
"""
    ),
    mode_cell(
        "This notebook runs in OFFLINE MODE: no model is called; writing requests say they "
        "need a model."
    ),
    md("## Check the install"),
    code(
        """
import platform
import sys

import langgraph.version

import crossroads

print("crossroads", crossroads.__version__, "| langgraph", langgraph.version.__version__)
print("python", platform.python_version(), "at", sys.executable)
"""
    ),
    md(
        """
## An app

`Crossroads()` takes its model from the environment (offline when there is none). This
notebook keeps its data (threads, document index) in a temporary folder so it leaves your
`~/.crossroads` alone, and indexes the three small documents in `data/` so the fact question
has something to answer from, with or without a model.
"""
    ),
    code(
        """
import tempfile
from pathlib import Path

from crossroads import Crossroads
from crossroads.tools.retrievers import build_index

workdir = Path(tempfile.mkdtemp(prefix="crossroads-quickstart-"))
app = Crossroads(home=workdir, checkpointer="memory")
stats = build_index([Path("data")], app.settings.data_dir / "index")
print(f"indexed {stats.files_indexed} files into {stats.chunks} chunks; mode: "
      f"{'llm' if app.settings.has_model else 'offline'}")
"""
    ),
    md(
        """
## Three questions

`await app.aask(...)` runs a question (the notebook's own event loop awaits it; `app.ask` is
the blocking version for scripts).
"""
    ),
    code(
        """
def show(result):
    print(f"Q route={result.route!r} ({result.route_reason}) mode={result.mode}")
    print("A", result.answer)
    for source in result.sources:
        print(f"  [{source['index']}] {source['title']} ({source['backend']})")
    usage = result.usage
    print(f"  usage: {usage['llm_calls']} model calls, "
          f"{usage['input_tokens']} tokens in, {usage['output_tokens']} out")
    print()


results = {}
for question in [
    "What is 15% of 240?",
    "Who built the Egyptian pyramids?",
    "Write a haiku about rain",
]:
    results[question] = await app.aask(question)
    show(results[question])
"""
    ),
    md(
        """
## What happened, step by step

Every result carries its `steps`: the route chosen and why, then what the agent did.
"""
    ),
    code(
        """
for step in results["What is 15% of 240?"].steps:
    print(f"{step['agent']:>10} {step['action']:<12} {step.get('detail')}")
"""
    ),
    md(
        """
## Streaming

`app.astream(...)` yields events as they happen: the route, each node starting and ending,
answer tokens (with a model) and finally the `Result`.
"""
    ),
    code(
        """
async for event in app.astream("What is 12 times 7?"):
    if event.type == "result":
        print("result:", event.result.answer)
    else:
        print(f"{event.type:<10} {event.node or ''} {event.text or event.data or ''}")
"""
    ),
    md(
        """
## The app graph

Drawn locally, with no network call: a Mermaid block (JupyterLab 4.1+ and VS Code render it)
and the same graph as text. Dotted edges are conditional: the router picks one agent, and an
agent that gives up can go back to the router once. `crossroads graph` prints the Mermaid text
in a terminal.
"""
    ),
    code(
        """
import os

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from examples.notebook_display import show_graph

show_graph(app.graph)
"""
    ),
    code("app.close()"),
]


# --- 02: calculator -----------------------------------------------------------------------

CALCULATOR = [
    md(
        """
# The calculator agent: an agentic retry loop you can watch

A model is bad at arithmetic but good at turning words into an expression. So the calculator
agent asks the model for an expression ("digits and operators only"), a safe engine computes
it, and when the engine refuses, **its error message goes back to the model** for another try,
at most `max_tries` times. Then the model phrases the answer, which must contain the computed
number.

```
prepare ─► extract ⇄ evaluate ─► phrase      (or give_up after max_tries)
```
"""
    ),
    mode_cell(
        "This notebook uses a SCRIPTED MODEL (crossroads.testing.ScriptedChatModel): its "
        "first expression uses an undefined name on purpose, so you can see the retry."
    ),
    md(
        """
## The engine alone

The engine is a plain function (`crossroads.tools.calculator`): an allow-list of syntax
walked by its own evaluator (no `eval`, no numexpr). Its errors are written for the model to act on.
"""
    ),
    code(
        """
from crossroads.tools.calculator import CalculatorError, evaluate

print(evaluate("36 - 20"))
try:
    evaluate("36 - sold")
except CalculatorError as error:
    print("refused:", error)
"""
    ),
    md(
        """
## The loop, through the app

Without a key the model is scripted: its first expression uses a name, `sold`, that it never
defined, the second is right, and the third reply is the phrased answer. (A number word such as
"twenty" would not need a retry: the agent reads `36 - twenty` as `36 - 20` on its own.)
"""
    ),
    code(
        """
from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel

QUESTION = "A baker made 36 rolls and sold twenty of them. How many rolls are left?"

model = None if REAL_MODEL else ScriptedChatModel(
    by_role={
        "router": [{"route": "math", "reason": "arithmetic"}] * 2,
        "calculator": [
            "36 - sold",                    # try 1: the engine refuses the unknown name
            "36 - 20",                      # try 2: fixed with the engine's error in view
            "The baker has 16 rolls left.", # phrasing; must contain 16
            "ans / 4",                      # the follow-up uses the last result
            "That makes 4 rolls per basket.",
        ],
    }
)
app = Crossroads(model, checkpointer="memory")
result = await app.aask(QUESTION, thread_id="bakery")
print(result.answer)
print()
for step in result.steps:
    if step["agent"] == "calculator":
        print(f"{step['action']:<10} {step['detail']}")
"""
    ),
    md(
        """
`extract` and `evaluate` alternate: try 1's error (`unknown name 'sold'`) is in
the steps. Here is the end of the second extraction prompt: the model saw its own expression
and the engine's message.
"""
    ),
    code(
        """
if REAL_MODEL:
    print("(a real model may get it right first time: then there is no second prompt)")
else:
    print(model.calls_for("calculator")[1].prompt[-330:])
"""
    ),
    md("Usage is counted per node: two extraction calls and one phrasing call."),
    code(
        """
for node, counts in result.usage["by_node"].items():
    print(f"{node:<20} {counts}")
"""
    ),
    md(
        """
## A follow-up on the same thread

The thread remembers the last result, so "and divided by 4?" works (`ans` in the expression).
Streaming shows the nodes as they run and the phrased answer token by token.
"""
    ),
    code(
        """
async for event in app.astream("and divided by 4?", thread_id="bakery"):
    if event.type in ("node_start", "token"):
        print(event.type, event.node, repr(event.text) if event.text else "")
    elif event.type == "result":
        print("result:", event.result.answer)
"""
    ),
    md(
        """
## Offline, no model at all

With no model, a rule-based reader turns simple word problems into the same engine's
expressions. It declines what it cannot read rather than guess.
"""
    ),
    code(
        """
offline = Crossroads(offline=True, checkpointer="memory")
for question in [QUESTION, "What is 15% of 240?", "A box holds 24 eggs. How many eggs are in 5 boxes?"]:
    print(f"{question}\\n  -> {(await offline.aask(question)).answer}")
offline.close()
"""
    ),
    md("## The calculator's subgraph"),
    code(
        """
import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from crossroads.graphs.calculator import build_calculator_graph
from examples.notebook_display import show_graph

show_graph(build_calculator_graph().compile())
app.close()
"""
    ),
]


# --- 03: research -----------------------------------------------------------------------

RESEARCH = [
    md(
        """
# The research agent: answers from your own documents

The researcher rewrites the question into a search query, retrieves passages (Wikipedia,
Tavily, a local index of your files or an offline Wikipedia `.zim`), keeps the relevant ones
and answers **only from them, with sources**, or says it does not know. Here it searches a
local index built from the small folder `data/`, and nothing else, so the notebook needs no
network.
"""
    ),
    mode_cell(
        "This notebook runs in OFFLINE MODE: answers are sentences picked from your documents "
        "(extractive), with their sources."
    ),
    md(
        """
## Build the index

`build_index` (the same as `crossroads index PATH`) chunks `.md`, `.txt`, `.pdf` and `.html`
files into a BM25 index. The index lives in the data directory; this notebook uses a
temporary one.
"""
    ),
    code(
        """
import tempfile
from pathlib import Path

from crossroads.tools.retrievers import build_index

workdir = Path(tempfile.mkdtemp(prefix="crossroads-research-"))
index_dir = workdir / "index"
print(sorted(path.name for path in Path("data").iterdir()))
print(build_index([Path("data")], index_dir))
"""
    ),
    md("Run it again: files that did not change are not read again."),
    code("print(build_index([Path('data')], index_dir))"),
    md(
        """
## Ask

`search_backends=("local",)` keeps the researcher on the index (the default also tries
Wikipedia).
"""
    ),
    code(
        """
from crossroads import Crossroads

app = Crossroads(home=workdir, checkpointer="memory", search_backends=("local",))


def show(result):
    print(f"[{result.route}] {result.answer}")
    for source in result.sources:
        print(f"   [{source['index']}] {source['title']}  {source['url']}")
    print()


for question in [
    "When was parliament first in Canberra?",
    "gee, I'm wondering who actually built those pyramids in Egypt",
    "Who invented the telephone?",
]:
    show(await app.aask(question))
"""
    ),
    md(
        """
The last question is not in the documents: the agent says so instead of guessing.

## What the researcher did

The steps show the search query, which backends answered, and what was kept.
"""
    ),
    code(
        """
result = await app.aask("Which architects designed Canberra?")
for step in result.steps:
    if step["agent"] == "researcher":
        print(f"{step['action']:<8} {step['detail']}")
"""
    ),
    md("## The researcher's subgraph"),
    code(
        """
import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from crossroads.graphs.researcher import build_researcher_graph
from examples.notebook_display import show_graph

show_graph(build_researcher_graph().compile())
app.close()
"""
    ),
]


# --- 04: writers --------------------------------------------------------------------------

WRITERS = [
    md(
        """
# The writers: a story whose plan you approve

Creative drafts a premise, the planner writes an outline and a shared **bible** (characters,
places, facts), the critic checks the plan and every part, and the writer writes one part at a
time. With `review=True` the run **pauses after the plan** (a LangGraph interrupt) so a person
can approve it, edit it or send feedback; `app.aresume(thread_id, value)` continues.
"""
    ),
    mode_cell(
        "Writing needs a model, so this notebook uses a SCRIPTED WRITING TEAM "
        "(ScriptedChatModel): the texts below are written in advance; the checks, the loop "
        "and the pause are the real ones."
    ),
    code(
        """
from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel

REQUEST = "Write a short story in two parts about a lighthouse keeper who saves a fisherman"

PLAN = {
    "title": "The Last Light of Eldmoor",
    "parts": [
        {"title": "Night", "goal": "Mira lights the lamp; Tom's boat drifts to the rocks.",
         "target_words": 60},
        {"title": "Dawn", "goal": "Mira finds Tom on the shore and brings him home.",
         "target_words": 60},
    ],
    "bible": {
        "characters": [{"name": "Mira", "traits": ["lighthouse keeper", "stubborn"]},
                       {"name": "Tom", "traits": ["young fisherman"]}],
        "places": ["Eldmoor"],
        "facts": ["The lamp has never gone dark."],
        "style": "Third person, past tense, plain words.",
    },
}
PART_1 = ("The storm reached Eldmoor at dusk. Mira climbed the hundred steps of the "
          "lighthouse, trimmed the wick and lit the great lamp, as she had every night for "
          "twenty years. Far out on the black water a small boat turned toward the rocks. "
          "It was Tom.")
PART_2_RENAMED = ("At dawn the sea lay flat and grey. Mara ran down to the shore and found "
                  "the boat broken on the sand. Tom was cold but breathing, and she wrapped "
                  "him in her coat.")
PART_2_NO_ENDING = PART_2_RENAMED.replace("Mara", "Mira")
PART_2 = PART_2_NO_ENDING + (" Together they climbed the hill, and that night the lamp "
                             "burned as bright as ever.")
APPROVE = {"verdict": "approve", "issues": []}

model = None if REAL_MODEL else ScriptedChatModel(
    by_role={
        "router": [{"route": "none", "reason": "a writing request"}],
        "creative": ["Mira, the stubborn keeper of the Eldmoor light, saves Tom, a young "
                     "fisherman, in a storm."],
        "planner": [PLAN, {"summary": "Mira lit the lamp and saw Tom's boat near the rocks.",
                           "new_characters": [], "new_places": [], "new_facts": []}],
        # plan, part 1, part 2 (three drafts); the model approves the misnamed draft, but
        # the deterministic names check overrides it.
        "critic": [APPROVE, APPROVE, APPROVE,
                   {"verdict": "revise", "issues": ["Give the story an ending: the lamp."]},
                   APPROVE],
        "writer": [PART_1, PART_2_RENAMED, PART_2_NO_ENDING, PART_2],
    }
)
app = Crossroads(model, checkpointer="memory", review=True)
"""
    ),
    md("## Ask: the run pauses with the plan"),
    code(
        """
paused = await app.aask(REQUEST, thread_id="story")
review = paused.interrupt
print("paused for:", review["type"], "|", review["title"])
for number, part in enumerate(review["outline"], 1):
    print(f"  {number}. {part['title']}: {part['goal']}")
print("characters:", [c["name"] for c in review["bible"]["characters"]])
print("how to answer:", review["how"])
"""
    ),
    md(
        """
## Approve it and let the team write

`True` approves; a dict such as `{"title": "..."}` edits the plan; a string is feedback for
the planner; `False` stops.
"""
    ),
    code(
        """
from IPython.display import Markdown, display

done = await app.aresume("story", True)
print("error:", done.error)
display(Markdown(done.answer))
"""
    ),
    md(
        """
## The critic's notes

Each critique records the model's verdict, the verdict in force (a deterministic check can
override an approval: the critic cannot wave a misspelt name through) and the issues sent
back to the writer.
"""
    ),
    code(
        """
for step in done.steps:
    if step["action"] == "critique":
        note = step["detail"]
        print(f"{note['target']:<7} draft {note.get('draft', 1)}: model said "
              f"{note['model_verdict']!r}, verdict {note['verdict']!r}"
              f"{' (overridden by a check)' if note['overridden'] else ''}")
        for issue in note["issues"]:
            print("    -", issue)
"""
    ),
    md("Model calls by role, for the whole request (the pause included):"),
    code(
        """
for node, counts in done.usage["by_node"].items():
    print(f"{node:<20} {counts['llm_calls']} call(s)")
app.close()
"""
    ),
]


# --- 05: your own agent -------------------------------------------------------------------

YOUR_OWN_AGENT = [
    md(
        """
# Your own agent: a new route, its tools, and the graph

An agent is a **tool** (a plain function), a **subgraph** that follows the agent contract in
`crossroads.contract` (question in; answer, steps, usage out) and an **`AgentSpec`**: the
route name and the description the router chooses by. The worked example is a unit converter
in `examples/unit_converter.py`; it needs no model.
"""
    ),
    mode_cell(
        "The unit agent needs no model. With four agents the router asks a model, so here "
        "the ROUTER'S REPLY IS SCRIPTED (ScriptedChatModel); everything else runs for real."
    ),
    code(
        """
import inspect
import os
import sys

from IPython.display import Markdown, display

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from examples import unit_converter

source = inspect.getsource(unit_converter)
agent_part = source[source.index("# --- the agent"):]
display(Markdown(f"```python\\n{agent_part}```"))
"""
    ),
    md("## The tool and the subgraph on their own"),
    code(
        """
from crossroads import Settings
from examples.unit_converter import UNITS_AGENT, build_units_graph, convert

print(convert(26.2, "mile", "km"))
units_graph = build_units_graph().compile()
output = await units_graph.ainvoke({"question": "100 °F in celsius"}, context=Settings())
print(output["answer"])
print(output["steps"])
"""
    ),
    md(
        """
## Route to it

Pass the agents explicitly (`agents=[*BUILTIN_AGENTS, UNITS_AGENT]`), or call
`crossroads.register_agent(...)` once so every app made afterwards has it (below).
"""
    ),
    code(
        """
import tempfile

from crossroads import Crossroads
from crossroads.graphs.builtin_agents import BUILTIN_AGENTS
from crossroads.testing import ScriptedChatModel

UNITS_ROUTE = {"route": "units", "reason": "a unit conversion"}
model = None if REAL_MODEL else ScriptedChatModel(
    by_role={
        "router": [UNITS_ROUTE] * 3 + [{"route": "fact", "reason": "look up the unit"}],
        "researcher": [{"query": "parsec in kilometres"}],
    }
)
# The researcher searches only local files here (none are indexed), so no network is needed.
app = Crossroads(model, checkpointer="memory", search_backends=("local",),
                 home=tempfile.mkdtemp(prefix="crossroads-units-"),
                 agents=[*BUILTIN_AGENTS, UNITS_AGENT])
for question in ["How many km is a marathon of 26.2 miles?", "convert 5 pounds to kg",
                 "convert 3 parsecs to km"]:
    result = await app.aask(question)
    print(f"{question}\\n  route={result.route} -> {result.answer}")
"""
    ),
    md(
        """
The last question names a unit the tool does not know: the agent answers honestly and hands
the question back, so the router tries one other agent (`steps` shows both):
"""
    ),
    code(
        """
for step in result.steps:
    print(f"{step['agent']:>8} {step['action']:<8} {step.get('detail')}")
"""
    ),
    md("## The new route in the graph: `units` sits next to the built-in agents"),
    code(
        """
from examples.notebook_display import show_graph

show_graph(app.graph)
app.close()
"""
    ),
    md("## Or register it for every new app"),
    code(
        """
from crossroads import register_agent
from crossroads.registry import unregister_agent

register_agent(UNITS_AGENT.name, UNITS_AGENT.description, build_units_graph,
               examples=UNITS_AGENT.examples)
with Crossroads(model, checkpointer="memory") as registered:
    print([spec.name for spec in registered.agents])
unregister_agent("units")  # keep this kernel's registry as it was
"""
    ),
]

# --- 06: evaluation -----------------------------------------------------------------------

EVALUATION = [
    md(
        """
# Evaluation: accuracy, model calls and latency

`crossroads.evaluation` runs a **suite** (a JSONL file of questions with the expected route
and answer) through an app and reports route accuracy (with a confusion matrix), answer
accuracy, model calls, tokens and latency per request. Three suites ship with Crossroads:
`router`, `calculator` and `research` (the research suite's documents are in
`benchmarks/corpus/`). The same runs from a terminal: `crossroads eval router --plot out.png`.
"""
    ),
    mode_cell(
        "This notebook evaluates OFFLINE MODE (classifier router, rule-based calculator, "
        "extractive answers from the indexed corpus): no model calls, so the calls panel "
        "shows zeros."
    ),
    md(
        """
## Run the three suites

The research suite searches only a local index of `benchmarks/corpus/`, built in a temporary
folder, so nothing here needs the network.
"""
    ),
    code(
        """
import asyncio
import tempfile
from pathlib import Path

from crossroads import Crossroads
from crossroads.evaluation import load_suite, resolve_suite, run_suite, summarize
from crossroads.tools.retrievers import build_index

workdir = Path(tempfile.mkdtemp(prefix="crossroads-eval-"))
build_index([Path("../benchmarks/corpus")], workdir / "index")
app = Crossroads(home=workdir, checkpointer="memory", search_backends=("local",))

reports = {}
for name in ["router", "calculator", "research"]:
    rows = load_suite(resolve_suite(name))
    # run_suite blocks (one question at a time, so latencies are each request's own);
    # a worker thread keeps the notebook's event loop free while it runs.
    outcomes = await asyncio.to_thread(run_suite, app, rows)
    reports[name] = summarize(outcomes, suite=name)

print(f"{'suite':<11}{'rows':>5}{'route acc':>11}{'answer acc':>12}{'calls/req':>11}"
      f"{'p50 ms':>8}{'p95 ms':>8}{'errors':>8}")
for name, report in reports.items():
    cost = report["cost"]
    print(f"{name:<11}{report['rows']:>5}{report['route']['accuracy']:>11.0%}"
          f"{report['answer']['accuracy']:>12.0%}{cost['llm_calls']['mean']:>11.2f}"
          f"{cost['latency_s']['p50'] * 1000:>8.0f}{cost['latency_s']['p95'] * 1000:>8.0f}"
          f"{report['errors']['count']:>8}")
"""
    ),
    md(
        """
## Plot accuracy, calls and latency

Latency is drawn on a log scale; the router suite's first request also loads the offline
classifier, so it stands out.
"""
    ),
    code(
        """
import matplotlib.pyplot as plt

names = list(reports)
figure, (accuracy_axis, calls_axis, latency_axis) = plt.subplots(1, 3, figsize=(14, 4))

width = 0.38
positions = range(len(names))
for offset, key, colour in [(-width / 2, "route", "#4c72b0"), (width / 2, "answer", "#55a868")]:
    values = [(reports[n][key]["accuracy"] or 0) * 100 for n in names]
    bars = accuracy_axis.bar([p + offset for p in positions], values, width, label=key,
                             color=colour)
    accuracy_axis.bar_label(bars, fmt="%.0f%%", fontsize=8)
accuracy_axis.set_xticks(list(positions), names)
accuracy_axis.set_ylim(0, 115)
accuracy_axis.set_ylabel("accuracy (%)")
accuracy_axis.set_title("Accuracy by suite")
accuracy_axis.legend(loc="lower right")

means = [reports[n]["cost"]["llm_calls"]["mean"] for n in names]
calls_axis.bar(names, means, color="#c44e52")
calls_axis.set_ylim(0, max([1.0, *means]) * 1.2)
calls_axis.set_ylabel("model calls per request (mean)")
calls_axis.set_title("Model calls" + ("" if any(means) else " (none: offline mode)"))

latencies = [[item["latency_s"] * 1000 for item in reports[n]["items"]] for n in names]
latency_axis.boxplot(latencies, tick_labels=names)
latency_axis.set_yscale("log")
latency_axis.set_ylabel("latency per request (ms, log scale)")
latency_axis.set_title("Latency")

figure.tight_layout()
plt.show()
"""
    ),
    md(
        """
## Where it went wrong

The rows that were not answered correctly, with what the app said: the place to start
improving.
"""
    ),
    code(
        """
for name, report in reports.items():
    for item in report["items"]:
        if item["answer_correct"] is False or item["route_correct"] is False:
            print(f"[{name}] {item['question']}")
            print(f"    expected {item['expected_route']} {item['expected_answers']}, "
                  f"got {item['route']}: {item['answer'][:110]}")
"""
    ),
    md("The router suite's confusion matrix (rows: expected route, columns: predicted):"),
    code(
        """
route = reports["router"]["route"]
print(" " * 9 + "".join(f"{label:>8}" for label in route["labels"]))
for label, row in zip(route["labels"], route["confusion"]):
    print(f"{label:>9}" + "".join(f"{count:>8}" for count in row))
app.close()
"""
    ),
]


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_quickstart": QUICKSTART,
    "02_calculator": CALCULATOR,
    "03_research": RESEARCH,
    "04_writers": WRITERS,
    "05_your_own_agent": YOUR_OWN_AGENT,
    "06_evaluation": EVALUATION,
}


def build_notebook(name: str, cells: list[tuple[str, str]]) -> NotebookNode:
    """A notebook with no outputs, stable cell ids and the venv's ``python3`` kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for number, (kind, source) in enumerate(cells, 1):
        cell_id = f"{name.split('_')[0]}-{number:02d}"
        if kind == "markdown":
            notebook.cells.append(nbformat.v4.new_markdown_cell(source, id=cell_id))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell(source, id=cell_id))
    nbformat.validate(notebook)
    return notebook


def render(notebook: NotebookNode) -> str:
    """The notebook's file text, written the way Jupyter writes it."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def expected_files() -> dict[Path, str]:
    """Every notebook file this script writes, with its text."""
    return {
        NOTEBOOKS_DIR / f"{name}.ipynb": render(build_notebook(name, cells))
        for name, cells in NOTEBOOKS.items()
    }


def main() -> int:
    """Write the notebooks; print what changed."""
    for path, text in expected_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(NOTEBOOKS_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
