"""Offline facts: the sentence that answers the question's type, or an honest "I don't know"."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crossroads.agents.researcher import EXTRACTIVE_PREFIX, offline_decline
from crossroads.cli import app
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.settings import Settings
from crossroads.tools.passages import answer_type, extractive_answer
from crossroads.tools.retrievers import build_index

EXAMPLES = Path(str(resources.files("crossroads") / "data" / "example_corpus"))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("home")
    build_index([EXAMPLES], folder / "index", progress=False)
    return folder


async def ask(question: str, home: Path) -> dict[str, Any]:
    graph = build_researcher_graph().compile()
    result: dict[str, Any] = await graph.ainvoke(
        {"question": question}, context=Settings(offline=True, home=home)
    )
    return result


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How tall is the lighthouse?", "32 metres"),
        ("When was the Cape Morrow lighthouse built?", "1871"),
        ("does the library have wifi", "Wi-Fi"),
        ("How high is Mount Everest?", "8,849 metres"),
        ("Who was the first person to step onto the Moon?", "Armstrong"),
        # The sentence says "Its ..." or leaves the subject to its heading and title.
        ("How tall is the Cape Morrow lighthouse?", "32 metres"),
        ("When did Apollo 11 land on the Moon?", "20 July 1969"),
        ("Who created the Python programming language?", "Guido van Rossum"),
        ("Which city is the largest in Australia by population?", "Sydney"),
    ],
)
async def test_answers_with_the_sentence_of_the_asked_kind(
    home: Path, question: str, expected: str
) -> None:
    result = await ask(question, home)
    assert result["answer"].startswith(EXTRACTIVE_PREFIX)
    assert expected in result["answer"]


async def test_how_tall_skips_the_first_sentence_for_the_one_with_a_length(home: Path) -> None:
    answer = (await ask("How tall is the lighthouse?", home))["answer"]
    assert "1871" not in answer


@pytest.mark.parametrize(
    "question",
    [
        "How tall is the Eiffel Tower?",
        "Who painted the Mona Lisa?",
        "When was the Great Wall of China built?",
        "How tall is Mount Kilimanjaro?",
        "When did the Titanic sink?",
        "How tall is the Great Pyramid?",
        "When did Neil Armstrong die?",
        "who designed the sydney opera house",
        # A person under the lighthouse's heading, but the sentence says nothing of building.
        "Who built the Cape Morrow lighthouse?",
    ],
)
async def test_questions_the_documents_do_not_answer_are_declined(
    home: Path, question: str
) -> None:
    result = await ask(question, home)
    assert result["answer"].startswith("I don't know"), result["answer"]
    assert result.get("sources") in (None, [])


def test_a_decline_names_what_is_missing_and_what_to_do() -> None:
    passage = {"title": "lighthouse", "text": "The lighthouse was built in 1871.", "source": ""}
    why = offline_decline("How tall is the Eiffel Tower?", [passage])  # type: ignore[list-item]
    assert why is not None
    assert '"eiffel"' in why and "crossroads index" in why
    why = offline_decline("How tall is the lighthouse?", [passage])  # type: ignore[list-item]
    assert why is not None and "a measurement" in why


def test_a_decline_names_the_words_as_the_user_wrote_them() -> None:
    """Terms are matched plural-folded ("mars" is "mar"); the user reads their own words."""
    passage = {"title": "lighthouse", "text": "The lighthouse was built in 1871.", "source": ""}
    why = offline_decline("What is the population of Mars?", [passage])  # type: ignore[list-item]
    assert why is not None and '"mars"' in why and '"mar"' not in why
    why = offline_decline("How tall are the lighthouses?", [passage])  # type: ignore[list-item]
    assert why is not None and '"lighthouses"' in why, why


def test_answer_types_are_read_from_the_question() -> None:
    for question, kind in [
        ("how tall is it", "a measurement"),
        ("When did it open?", "a date"),
        ("who wrote it", "a person"),
        ("how many books can I borrow", "a number of books"),
        ("What is the population of Australia?", "a number of people"),
        ("What height is Everest?", "a measurement"),
        ("In which year did Python appear?", "a date"),
    ]:
        found = answer_type(question)
        assert found is not None and found[1] == kind
    assert answer_type("why do leaves look green") is None
    # A thing named, whatever measure follows: not "a number of people".
    assert answer_type("Which city is the largest in Australia by population?") is None
    assert answer_type("What mountain has the greatest height?") is None


def test_extractive_answer_without_a_type_still_ranks_by_shared_terms() -> None:
    passage = {"title": "t", "text": "Cats sleep a lot. Leaves look green because of chlorophyll."}
    text, cited = extractive_answer("why do leaves look green", "", [passage])  # type: ignore[list-item]
    assert text.startswith("Leaves look green") and cited == [1]


async def test_nothing_searchable_explains_once_and_says_how_to_get_facts(tmp_path: Path) -> None:
    result = await ask("Who painted the Mona Lisa?", tmp_path / "empty")
    answer = result["answer"]
    assert "crossroads index --example" in answer and "CROSSROADS_ZIM" in answer
    assert "Not searched" not in answer  # the per-backend notes are in ``error`` only
    assert "no local index" in result["error"]


def test_index_example_indexes_the_shipped_corpus(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["index", "--example", "-q"], env={"CROSSROADS_HOME": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert "indexed 8 file(s)" in result.output
    assert (tmp_path / "index" / "manifest.json").is_file()


def test_index_without_paths_suggests_the_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["index"], env={"CROSSROADS_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "crossroads index --example" in result.output


def test_a_long_query_is_clipped_where_an_answer_quotes_it() -> None:
    from crossroads.agents.researcher import SHOWN_QUERY_CHARS, searched_summary

    rounds = [{"query": "9" * 5000, "backends": ["local"], "failed": [], "skipped": []}]
    text = searched_summary(rounds)  # type: ignore[arg-type]
    assert "9" * SHOWN_QUERY_CHARS not in text and "9" * (SHOWN_QUERY_CHARS - 1) + "…" in text
    assert len(text) < 200
