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
# # The calculator agent: an agentic retry loop you can watch
#
# A model is bad at arithmetic but good at turning words into an expression. So the calculator
# agent asks the model for an expression ("digits and operators only"), a safe engine computes
# it, and when the engine refuses, **its error message goes back to the model** for another try,
# at most `max_tries` times. Then the model phrases the answer, which must contain the computed
# number.
#
# ```
# prepare ─► extract ⇄ evaluate ─► phrase      (or give_up after max_tries)
# ```

# %%
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
    print("This notebook uses a SCRIPTED MODEL (crossroads.testing.ScriptedChatModel):")
    print("its first expression uses an undefined name on purpose, so you can see the")
    print("retry.")

# %% [markdown]
# ## The engine alone
#
# The engine is a plain function (`crossroads.tools.calculator`): an allow-list of syntax
# walked by its own evaluator (no `eval`, no numexpr). Its errors are written for the model to
# act on.

# %%
from crossroads.tools.calculator import CalculatorError, evaluate

print(evaluate("36 - 20"))
try:
    evaluate("36 - sold")
except CalculatorError as error:
    print("refused:", error)

# %% [markdown]
# ## The loop, through the app
#
# Without a key the model is scripted: its first expression uses a name, `sold`, that it never
# defined, the second is right, and the third reply is the phrased answer. (A number word such as
# "twenty" would not need a retry: the agent reads `36 - twenty` as `36 - 20` on its own.)

# %%
from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel

QUESTION = "A baker made 36 rolls and sold twenty of them. How many rolls are left?"

model = (
    None
    if REAL_MODEL
    else ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "arithmetic"}] * 2,
            "calculator": [
                "36 - sold",  # try 1: the engine refuses the unknown name
                "36 - 20",  # try 2: fixed with the engine's error in view
                "The baker has 16 rolls left.",  # phrasing; must contain 16
                "ans / 4",  # the follow-up uses the last result
                "That makes 4 rolls per basket.",
            ],
        }
    )
)
app = Crossroads(model, checkpointer="memory")
result = await app.aask(QUESTION, thread_id="bakery")
print(result.answer)
print()
for step in result.steps:
    if step["agent"] == "calculator":
        print(f"{step['action']:<10} {step['detail']}")

# %% [markdown]
# `extract` and `evaluate` alternate: try 1's error (`unknown name 'sold'`) is in
# the steps. Here is the end of the second extraction prompt: the model saw its own expression
# and the engine's message.

# %%
if model is None:
    print("(a real model may get it right first time: then there is no second prompt)")
else:
    print(model.calls_for("calculator")[1].prompt[-330:])

# %% [markdown]
# Usage is counted per node: two extraction calls and one phrasing call.

# %%
for node, counts in result.usage["by_node"].items():
    print(f"{node:<20} {counts}")


# %% [markdown]
# ## A follow-up on the same thread
#
# The thread remembers the last result, so "and divided by 4?" works (`ans` in the expression).
# Streaming shows the nodes as they run and the phrased answer token by token.


# %%
async def stream(question: str, thread_id: str) -> None:
    async for event in app.astream(question, thread_id=thread_id):
        if event.type in ("node_start", "token"):
            print(event.type, event.node, repr(event.text) if event.text else "")
        elif event.type == "result" and event.result is not None:
            print("result:", event.result.answer)


await stream("and divided by 4?", thread_id="bakery")


# %% [markdown]
# ## Offline, no model at all
#
# With no model, a rule-based reader turns simple word problems into the same engine's
# expressions. It declines what it cannot read rather than guess.

# %%
offline = Crossroads(offline=True, checkpointer="memory")
for question in [
    QUESTION,
    "What is 15% of 240?",
    "A box holds 24 eggs. How many eggs are in 5 boxes?",
]:
    print(f"{question}\n  -> {(await offline.aask(question)).answer}")
offline.close()

# %% [markdown]
# ## The calculator's subgraph

# %%
import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from crossroads.graphs.calculator import build_calculator_graph
from examples.notebook_display import show_graph

show_graph(build_calculator_graph().compile())
app.close()
