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
# # The writers: a story whose plan you approve
#
# Creative drafts a premise, the planner writes an outline and a shared **bible** (characters,
# places, facts), the critic checks the plan and every part, and the writer writes one part at a
# time. With `review=True` the run **pauses after the plan** (a LangGraph interrupt) so a person
# can approve it, edit it or send feedback; `app.aresume(thread_id, value)` continues.

# %%
from crossroads import Settings

# A real model is used when the environment names one (GOOGLE_API_KEY or CROSSROADS_MODEL).
REAL_MODEL = Settings.from_env().has_model
if REAL_MODEL:
    print("Model mode: REAL MODEL from your environment; answers will vary from run to run.")
else:
    print("Model mode: NO MODEL (no GOOGLE_API_KEY or CROSSROADS_MODEL set).")
    print("Writing needs a model, so this notebook uses a SCRIPTED WRITING TEAM")
    print("(ScriptedChatModel): the texts below are written in advance; the checks, the")
    print("loop and the pause are the real ones.")

# %%
from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel

REQUEST = "Write a short story in two parts about a lighthouse keeper who saves a fisherman"

PLAN = {
    "title": "The Last Light of Eldmoor",
    "parts": [
        {
            "title": "Night",
            "goal": "Mira lights the lamp; Tom's boat drifts to the rocks.",
            "target_words": 60,
        },
        {
            "title": "Dawn",
            "goal": "Mira finds Tom on the shore and brings him home.",
            "target_words": 60,
        },
    ],
    "bible": {
        "characters": [
            {"name": "Mira", "traits": ["lighthouse keeper", "stubborn"]},
            {"name": "Tom", "traits": ["young fisherman"]},
        ],
        "places": ["Eldmoor"],
        "facts": ["The lamp has never gone dark."],
        "style": "Third person, past tense, plain words.",
    },
}
PART_1 = (
    "The storm reached Eldmoor at dusk. Mira climbed the hundred steps of the "
    "lighthouse, trimmed the wick and lit the great lamp, as she had every night for "
    "twenty years. Far out on the black water a small boat turned toward the rocks. "
    "It was Tom."
)
PART_2_RENAMED = (
    "At dawn the sea lay flat and grey. Mara ran down to the shore and found "
    "the boat broken on the sand. Tom was cold but breathing, and she wrapped "
    "him in her coat."
)
PART_2_NO_ENDING = PART_2_RENAMED.replace("Mara", "Mira")
PART_2 = PART_2_NO_ENDING + (
    " Together they climbed the hill, and that night the lamp burned as bright as ever."
)
APPROVE = {"verdict": "approve", "issues": []}

model = (
    None
    if REAL_MODEL
    else ScriptedChatModel(
        by_role={
            "router": [{"route": "none", "reason": "a writing request"}],
            "creative": [
                "Mira, the stubborn keeper of the Eldmoor light, saves Tom, a young "
                "fisherman, in a storm."
            ],
            "planner": [
                PLAN,
                {
                    "summary": "Mira lit the lamp and saw Tom's boat near the rocks.",
                    "new_characters": [],
                    "new_places": [],
                    "new_facts": [],
                },
            ],
            # plan, part 1, part 2 (three drafts); the model approves the misnamed draft, but
            # the deterministic names check overrides it.
            "critic": [
                APPROVE,
                APPROVE,
                APPROVE,
                {"verdict": "revise", "issues": ["Give the story an ending: the lamp."]},
                APPROVE,
            ],
            "writer": [PART_1, PART_2_RENAMED, PART_2_NO_ENDING, PART_2],
        }
    )
)
app = Crossroads(model, checkpointer="memory", review=True)

# %% [markdown]
# ## Ask: the run pauses with the plan

# %%
paused = await app.aask(REQUEST, thread_id="story")
review = paused.interrupt
print("paused for:", review["type"], "|", review["title"])
for number, part in enumerate(review["outline"], 1):
    print(f"  {number}. {part['title']}: {part['goal']}")
print("characters:", [c["name"] for c in review["bible"]["characters"]])
print("how to answer:", review["how"])

# %% [markdown]
# ## Approve it and let the team write
#
# `True` approves; a dict such as `{"title": "..."}` edits the plan; a string is feedback for
# the planner; `False` stops.

# %%
from IPython.display import Markdown, display

done = await app.aresume("story", True)
print("error:", done.error)
display(Markdown(done.answer))

# %% [markdown]
# ## The critic's notes
#
# Each critique records the model's verdict, the verdict in force (a deterministic check can
# override an approval: the critic cannot wave a misspelt name through) and the issues sent
# back to the writer.

# %%
for step in done.steps:
    if step["action"] == "critique":
        note = step["detail"]
        print(
            f"{note['target']:<7} draft {note.get('draft', 1)}: model said "
            f"{note['model_verdict']!r}, verdict {note['verdict']!r}"
            f"{' (overridden by a check)' if note['overridden'] else ''}"
        )
        for issue in note["issues"]:
            print("    -", issue)

# %% [markdown]
# Model calls by role, for the whole request (the pause included):

# %%
for node, counts in done.usage["by_node"].items():
    print(f"{node:<20} {counts['llm_calls']} call(s)")
app.close()
