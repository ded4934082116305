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
# # Evaluation: accuracy, model calls and latency
#
# `crossroads.evaluation` runs a **suite** (a JSONL file of questions with the expected route
# and answer) through an app and reports route accuracy (with a confusion matrix), answer
# accuracy, model calls, tokens and latency per request. Three suites ship with Crossroads:
# `router`, `calculator` and `research` (the research suite's documents are in
# `benchmarks/corpus/`). The same runs from a terminal: `crossroads eval router --plot out.png`.

# %%
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
    print("This notebook evaluates OFFLINE MODE (classifier router, rule-based")
    print("calculator, extractive answers from the indexed corpus): no model calls, so")
    print("the calls panel shows zeros.")

# %% [markdown]
# ## Run the three suites
#
# The research suite searches only a local index of `benchmarks/corpus/`, built in a temporary
# folder, so nothing here needs the network.

# %%
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

print(
    f"{'suite':<11}{'rows':>5}{'route acc':>11}{'answer acc':>12}{'calls/req':>11}"
    f"{'p50 ms':>8}{'p95 ms':>8}{'errors':>8}"
)
for name, report in reports.items():
    cost = report["cost"]
    print(
        f"{name:<11}{report['rows']:>5}{report['route']['accuracy']:>11.0%}"
        f"{report['answer']['accuracy']:>12.0%}{cost['llm_calls']['mean']:>11.2f}"
        f"{cost['latency_s']['p50'] * 1000:>8.0f}{cost['latency_s']['p95'] * 1000:>8.0f}"
        f"{report['errors']['count']:>8}"
    )

# %% [markdown]
# ## Plot accuracy, calls and latency
#
# Latency is drawn on a log scale; the router suite's first request also loads the offline
# classifier, so it stands out.

# %%
import matplotlib.pyplot as plt

names = list(reports)
figure, (accuracy_axis, calls_axis, latency_axis) = plt.subplots(1, 3, figsize=(14, 4))

width = 0.38
positions = range(len(names))
for offset, key, colour in [(-width / 2, "route", "#4c72b0"), (width / 2, "answer", "#55a868")]:
    values = [(reports[n][key]["accuracy"] or 0) * 100 for n in names]
    bars = accuracy_axis.bar(
        [p + offset for p in positions], values, width, label=key, color=colour
    )
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

# %% [markdown]
# ## Where it went wrong
#
# The rows that were not answered correctly, with what the app said: the place to start
# improving.

# %%
for name, report in reports.items():
    for item in report["items"]:
        if item["answer_correct"] is False or item["route_correct"] is False:
            print(f"[{name}] {item['question']}")
            print(
                f"    expected {item['expected_route']} {item['expected_answers']}, "
                f"got {item['route']}: {item['answer'][:110]}"
            )

# %% [markdown]
# The router suite's confusion matrix (rows: expected route, columns: predicted):

# %%
route = reports["router"]["route"]
print(" " * 9 + "".join(f"{label:>8}" for label in route["labels"]))
for label, row in zip(route["labels"], route["confusion"], strict=True):
    print(f"{label:>9}" + "".join(f"{count:>8}" for count in row))
app.close()
