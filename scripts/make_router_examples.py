"""Write ``crossroads/data/router_examples.jsonl``, the offline router's training and test rows.

Each row is ``{"text": ..., "label": "math" | "fact" | "none", "split": "train" |
"validation" | "heldout", "source": ...}``; ``source`` is ``synthetic`` (the rows made here),
``gsm8k``, ``nq_open`` or ``written`` (see ``scripts/router_real_data.py`` for those and for
how their split is fixed).

The synthetic rows are data, in ``scripts/router_rows/``; this script only composes them:

* ``train_<label>.txt``: hand-written train questions, one a line;
* ``phrases.json``: per label, sentence ``shapes`` and the phrase tables (people, objects,
  places, works, tasks...) that fill them; 260 train rows per label are composed from it;
* ``heldout_<label>.txt`` and ``heldout_<label>_b.txt``: the held-out questions.

How the rows are made, and why the held-out accuracy it yields is honest:

* The **train** split mixes hand-written questions with rows composed from small phrase
  tables and several sentence shapes per class, so the classifier sees many wordings of the
  same intent.
* The **heldout** split is written separately, by hand, and shares neither sentence shapes
  nor most topics with train: other story problems, other countries and people, other
  writing tasks, more typos, lower-case search queries and chatty phrasings. A model that
  only memorised the train templates scores visibly worse on it. The second batch
  (``*_b.txt``) was written after the first measurement: the first batch's errors (numeric
  facts such as "how many keys on a piano", greetings, "design/invent a ...") led to new
  *train* shapes, and since that looked at held-out rows, the fresh batch, not looked at
  before the train data was frozen, keeps the held-out score honest.
* Hard cases are on purpose in both splits: facts that contain numbers ("when did ww2
  end"), writing requests that contain numbers ("plan a 3 day trip"), math without digits
  ("what's half of a dozen").

The output is deterministic (fixed seed, stable order): run it again and ``git diff`` shows
only what you changed in the data.

    .venv/bin/python scripts/make_router_examples.py [../shared/data]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from router_real_data import DEFAULT_DATA_DIR, real_rows

OUTPUT_PATH = (
    Path(__file__).resolve().parent.parent / "crossroads" / "data" / "router_examples.jsonl"
)
ROWS_DIR = Path(__file__).resolve().parent / "router_rows"
SEED = 20240611
TRAIN_COMPOSED_PER_CLASS = 260
LABELS = ("math", "fact", "none")


def written(name: str) -> list[str]:
    """The hand-written questions of ``router_rows/<name>.txt``, one a line."""
    return (ROWS_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()


def phrases() -> dict[str, dict[str, Any]]:
    """Each label's sentence shapes and phrase tables (``router_rows/phrases.json``)."""
    loaded: dict[str, dict[str, Any]] = json.loads(
        (ROWS_DIR / "phrases.json").read_text(encoding="utf-8")
    )
    return loaded


def compose_math(rng: random.Random, count: int, table: dict[str, Any]) -> list[str]:
    """Story problems and bare arithmetic in varied shapes."""
    number_words = {int(value): word for value, word in table["number_words"].items()}

    def say(value: int) -> str:  # digits most of the time, words sometimes, as people do
        return number_words[value] if value in number_words and rng.random() < 0.35 else str(value)

    rows: list[str] = []
    for index in range(count):
        shape = table["shapes"][index % len(table["shapes"])]
        a, b = rng.randint(2, 50), rng.randint(2, 12)
        op_word, op_symbol = rng.choice(table["operations"])
        person = rng.choice(table["people"])
        rows.append(
            shape.format(
                p=person.capitalize() if shape.startswith("{p}") else person,
                p2=rng.choice(table["helpers"]),
                p_obj=rng.choice(table["pronouns"]),
                i=rng.choice(table["items"]),
                a=say(a),
                b=say(b),
                ab=a * b,
                op=op_word,
                sym=op_symbol,
                pct=rng.choice(table["percents"]),
                big=rng.choice(table["totals"]),
            )
        )
    return rows


def compose_facts(rng: random.Random, count: int, table: dict[str, Any]) -> list[str]:
    """Who/what/when/where questions and search-style queries about real things."""
    rows: list[str] = []
    for index in range(count):
        shape = table["shapes"][index % len(table["shapes"])]
        country, famous = rng.choice(table["countries"]), rng.choice(table["famous_people"])
        landmark, event = rng.choice(table["landmarks"]), rng.choice(table["events"])
        animal = rng.choice(table["animals"])
        measure, measured = rng.choice(table["measured"])
        rows.append(
            shape.format(
                c=country,
                c_lower=country.lower(),
                f=famous,
                f_lower=famous.lower(),
                l=landmark,
                l_lower=landmark.removeprefix("the ").lower(),
                e=event,
                part=rng.choice(table["animal_parts"]),
                animal=animal,
                animal_bare=animal.split(" ", 1)[1],
                measure=measure,
                measured=measured,
                concept=rng.choice(table["concepts"]),
                counted=rng.choice(table["counted"]),
            )
        )
    return rows


def compose_none(rng: random.Random, count: int, table: dict[str, Any]) -> list[str]:
    """Writing, planning, advice and chit-chat requests: nothing to compute or look up."""
    rows: list[str] = []
    for index in range(count):
        shape = table["shapes"][index % len(table["shapes"])]
        rows.append(
            shape.format(
                form=rng.choice(table["forms"]),
                theme=rng.choice(table["themes"]),
                task=rng.choice(table["tasks"]),
                n=rng.choice(table["counts"]),
                greeting=rng.choice(table["greetings"]),
                followup=rng.choice(table["followups"]),
                thing=rng.choice(table["invented_things"]),
            )
        )
    return rows


COMPOSERS = {"math": compose_math, "fact": compose_facts, "none": compose_none}


def synthetic_rows() -> list[dict[str, str]]:
    """The rows made from ``router_rows/``: train first, then held-out; no text twice."""
    rng = random.Random(SEED)
    tables = phrases()
    train = [
        (text, label)
        for label in LABELS
        for text in written(f"train_{label}")
        + COMPOSERS[label](rng, TRAIN_COMPOSED_PER_CLASS, tables[label])
    ]
    heldout = [
        (text, label)
        for batch in ("", "_b")
        for label in LABELS
        for text in written(f"heldout_{label}{batch}")
    ]
    seen: set[str] = set()
    rows: list[dict[str, str]] = []
    # Held-out rows are claimed first so that a composed train row can never duplicate one.
    for split, pairs in (("heldout", heldout), ("train", train)):
        for text, label in pairs:
            key = " ".join(text.lower().split())
            if not key or key in seen:
                continue
            seen.add(key)
            rows.append(
                {"text": text.strip(), "label": label, "split": split, "source": "synthetic"}
            )
    rows.sort(key=lambda row: 0 if row["split"] == "train" else 1)  # stable: train first
    return rows


def build_rows(data_dir: Path = DEFAULT_DATA_DIR) -> list[dict[str, str]]:
    """Assemble the splits, drop duplicates, and keep held-out texts out of train."""
    rows = synthetic_rows()
    seen = {" ".join(row["text"].lower().split()) for row in rows}
    # Real phrasing (GSM8K, NQ-open) and hand-written chat/writing rows, split by a fixed
    # hash of their text (scripts/router_real_data.py). A real row equal to a synthetic one
    # is dropped, so no text is in two splits.
    for row in real_rows(data_dir):
        key = " ".join(row["text"].lower().split())
        if key in seen:
            continue
        seen.add(key)
        rows.append(row)
    return rows


def render(rows: list[dict[str, str]]) -> str:
    """The jsonl file's text."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main() -> None:
    """Write the jsonl file and print how many rows each split and label got."""
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA_DIR
    if not (data_dir / "gsm8k_train.jsonl").is_file():
        sys.exit(f"Real data not found in {data_dir}; pass the folder holding gsm8k_train.jsonl.")
    rows = build_rows(data_dir)
    OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT_PATH.write_text(render(rows), encoding="utf-8")
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[(row["split"], row["label"])] = counts.get((row["split"], row["label"]), 0) + 1
    for (split, label), count in sorted(counts.items()):
        print(f"{split:8} {label:5} {count}")
    print(f"wrote {len(rows)} rows to {OUTPUT_PATH}")


if __name__ == "__main__":
    main()
