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
# # Your own agent: a new route, its tools, and the graph
#
# An agent is a **tool** (a plain function), a **subgraph** that follows the agent contract in
# `crossroads.contract` (question in; answer, steps, usage out) and an **`AgentSpec`**: the
# route name and the description the router chooses by. The worked example is a unit converter
# in `examples/unit_converter.py`; it needs no model.

# %%
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
    print("The unit agent needs no model. With four agents the router asks a model, so")
    print("here the ROUTER'S REPLY IS SCRIPTED (ScriptedChatModel); everything else runs")
    print("for real.")

# %%
import inspect
import os
import sys

from IPython.display import Markdown, display

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from examples import unit_converter

source = inspect.getsource(unit_converter)
agent_part = source[source.index("# --- the agent") :]
display(Markdown(f"```python\n{agent_part}```"))

# %% [markdown]
# ## The tool and the subgraph on their own

# %%
from crossroads import Settings
from examples.unit_converter import UNITS_AGENT, build_units_graph, convert

print(convert(26.2, "mile", "km"))
units_graph = build_units_graph().compile()
output = await units_graph.ainvoke({"question": "100 °F in celsius"}, context=Settings())
print(output["answer"])
print(output["steps"])

# %% [markdown]
# ## Route to it
#
# Pass the agents explicitly (`agents=[*BUILTIN_AGENTS, UNITS_AGENT]`), or call
# `crossroads.register_agent(...)` once so every app made afterwards has it (below).

# %%
import tempfile

from crossroads import Crossroads
from crossroads.graphs.builtin_agents import BUILTIN_AGENTS
from crossroads.testing import ScriptedChatModel

UNITS_ROUTE = {"route": "units", "reason": "a unit conversion"}
model = (
    None
    if REAL_MODEL
    else ScriptedChatModel(
        by_role={
            "router": [UNITS_ROUTE] * 3 + [{"route": "fact", "reason": "look up the unit"}],
            "researcher": [{"query": "parsec in kilometres"}],
        }
    )
)
# The researcher searches only local files here (none are indexed), so no network is needed.
app = Crossroads(
    model,
    checkpointer="memory",
    search_backends=("local",),
    home=tempfile.mkdtemp(prefix="crossroads-units-"),
    agents=[*BUILTIN_AGENTS, UNITS_AGENT],
)
for question in [
    "How many km is a marathon of 26.2 miles?",
    "convert 5 pounds to kg",
    "convert 3 parsecs to km",
]:
    result = await app.aask(question)
    print(f"{question}\n  route={result.route} -> {result.answer}")

# %% [markdown]
# The last question names a unit the tool does not know: the agent answers honestly and hands
# the question back, so the router tries one other agent (`steps` shows both):

# %%
for step in result.steps:
    print(f"{step['agent']:>8} {step['action']:<8} {step.get('detail')}")

# %% [markdown]
# ## The new route in the graph: `units` sits next to the built-in agents

# %%
from examples.notebook_display import show_graph

show_graph(app.graph)
app.close()

# %% [markdown]
# ## Or register it for every new app

# %%
from crossroads import register_agent
from crossroads.registry import unregister_agent

register_agent(
    UNITS_AGENT.name,
    UNITS_AGENT.description,
    build_units_graph,
    examples=UNITS_AGENT.examples,
)
with Crossroads(model, checkpointer="memory") as registered:
    print([spec.name for spec in registered.agents])
unregister_agent("units")  # keep this kernel's registry as it was
