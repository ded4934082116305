# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Crossroads quickstart
#
# Ask a math, a fact and a "none" question; see which agent the router chose, the sources and
# the model usage; then draw the app graph. **The first code cell tells which mode this run
# uses**: a real chat model when your environment has a key, offline mode otherwise (no key
# needed: a small classifier routes, a rule-based reader does simple word problems, facts come
# from your own documents).

# %%
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
    print("This notebook runs in OFFLINE MODE: no model is called; writing requests say")
    print("they need a model.")

# %% [markdown]
# ## Check the install

# %%
import platform
import sys

import langgraph.version

import crossroads

print("crossroads", crossroads.__version__, "| langgraph", langgraph.version.__version__)
print("python", platform.python_version(), "at", sys.executable)

# %% [markdown]
# ## An app
#
# `Crossroads()` takes its model from the environment (offline when there is none). This
# notebook keeps its data (threads, document index) in a temporary folder so it leaves your
# `~/.crossroads` alone, and indexes the three small documents in `data/` so the fact question
# has something to answer from, with or without a model.

# %%
import tempfile
from pathlib import Path

from crossroads import Crossroads, Result
from crossroads.tools.retrievers import build_index

workdir = Path(tempfile.mkdtemp(prefix="crossroads-quickstart-"))
app = Crossroads(home=workdir, checkpointer="memory")
stats = build_index([Path("data")], app.settings.data_dir / "index")
print(
    f"indexed {stats.files_indexed} files into {stats.chunks} chunks; mode: "
    f"{'llm' if app.settings.has_model else 'offline'}"
)


# %% [markdown]
# ## Three questions
#
# `await app.aask(...)` runs a question (the notebook's own event loop awaits it; `app.ask` is
# the blocking version for scripts).


# %%
def show(result: Result) -> None:
    print(f"Q route={result.route!r} ({result.route_reason}) mode={result.mode}")
    print("A", result.answer)
    for source in result.sources:
        print(f"  [{source['index']}] {source['title']} ({source['backend']})")
    usage = result.usage
    print(
        f"  usage: {usage['llm_calls']} model calls, "
        f"{usage['input_tokens']} tokens in, {usage['output_tokens']} out"
    )
    print()


results: dict[str, Result] = {}
for question in [
    "What is 15% of 240?",
    "Who built the Egyptian pyramids?",
    "Write a haiku about rain",
]:
    results[question] = await app.aask(question)
    show(results[question])

# %% [markdown]
# ## What happened, step by step
#
# Every result carries its `steps`: the route chosen and why, then what the agent did.

# %%
for step in results["What is 15% of 240?"].steps:
    print(f"{step['agent']:>10} {step['action']:<12} {step.get('detail')}")


# %% [markdown]
# ## Streaming
#
# `app.astream(...)` yields events as they happen: the route, each node starting and ending,
# answer tokens (with a model) and finally the `Result`.


# %%
async def stream(question: str) -> None:
    async for event in app.astream(question):
        if event.type == "result" and event.result is not None:
            print("result:", event.result.answer)
        else:
            print(f"{event.type:<10} {event.node or ''} {event.text or event.data or ''}")


await stream("What is 12 times 7?")


# %% [markdown]
# ## The app graph
#
# Drawn locally, with no network call: a Mermaid block (JupyterLab 4.1+ and VS Code render it)
# and the same graph as text. Dotted edges are conditional: the router picks one agent, and an
# agent that gives up can go back to the router once. `crossroads graph` prints the Mermaid text
# in a terminal.

# %%
import os

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from examples.notebook_display import show_graph

show_graph(app.graph)

# %%
app.close()
