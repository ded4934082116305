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
# # The research agent: answers from your own documents
#
# The researcher rewrites the question into a search query, retrieves passages (Wikipedia,
# Tavily, a local index of your files or an offline Wikipedia `.zim`), keeps the relevant ones
# and answers **only from them, with sources**, or says it does not know. Here it searches a
# local index built from the small folder `data/`, and nothing else, so the notebook needs no
# network.

# %%
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
    print("This notebook runs in OFFLINE MODE: answers are sentences picked from your")
    print("documents (extractive), with their sources.")

# %% [markdown]
# ## Build the index
#
# `build_index` (the same as `crossroads index PATH`) chunks `.md`, `.txt`, `.pdf` and `.html`
# files into a BM25 index. The index lives in the data directory; this notebook uses a
# temporary one.

# %%
import tempfile
from pathlib import Path

from crossroads.tools.retrievers import build_index

workdir = Path(tempfile.mkdtemp(prefix="crossroads-research-"))
index_dir = workdir / "index"
print(sorted(path.name for path in Path("data").iterdir()))
print(build_index([Path("data")], index_dir))

# %% [markdown]
# Run it again: files that did not change are not read again.

# %%
print(build_index([Path("data")], index_dir))

# %% [markdown]
# ## Ask
#
# `search_backends=("local",)` keeps the researcher on the index (the default also tries
# Wikipedia).

# %%
from crossroads import Crossroads, Result

app = Crossroads(home=workdir, checkpointer="memory", search_backends=("local",))


def show(result: Result) -> None:
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

# %% [markdown]
# The last question is not in the documents: the agent says so instead of guessing.
#
# ## What the researcher did
#
# The steps show the search query, which backends answered, and what was kept.

# %%
result = await app.aask("Which architects designed Canberra?")
for step in result.steps:
    if step["agent"] == "researcher":
        print(f"{step['action']:<8} {step['detail']}")

# %% [markdown]
# ## The researcher's subgraph

# %%
import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the repository root, for examples/
from crossroads.graphs.researcher import build_researcher_graph
from examples.notebook_display import show_graph

show_graph(build_researcher_graph().compile())
app.close()
