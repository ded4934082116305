"""``crossroads eval --plot``: the figure holds the four panels the README promises (route
accuracy with its confusion matrix, answer accuracy, model calls, latency), with the
report's figures in their titles, and a one-route report still draws its count."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossroads.evaluation import PLOT_PANELS, RowOutcome, build_figure, summarize, write_plot


def outcome(index: int, route: str, right: bool, calls: int, latency: float) -> RowOutcome:
    return RowOutcome(
        index=index,
        question=f"q{index}",
        expected_route="math",
        route=route,
        expected_answers=("4",),
        answer="4" if right else "5",
        error=None,
        llm_calls=calls,
        input_tokens=10,
        output_tokens=2,
        latency_s=latency,
        route_correct=route == "math",
        answer_correct=right,
        answer_kind="number",
    )


@pytest.fixture
def report() -> dict:
    return summarize(
        [
            outcome(0, "math", True, 1, 0.010),
            outcome(1, "math", True, 2, 0.020),
            outcome(2, "fact", False, 3, 0.030),
            outcome(3, "math", False, 1, 0.040),
        ]
    )


def test_the_figure_has_the_four_panels_with_the_reports_figures(report: dict) -> None:
    import matplotlib.pyplot as plt

    figure = build_figure(report)
    titles = [axis.get_title() for axis in figure.axes]
    plt.close(figure)

    assert [title.split(":")[0] for title in titles] == list(PLOT_PANELS)
    routes, answers, calls, latency = titles
    assert "75%" in routes  # 3 of 4 routed to math
    assert "50%" in answers  # 2 of 4 answers right
    assert "1.75" in calls  # (1 + 2 + 3 + 1) / 4 calls
    assert "p50 25 ms" in latency


def test_a_one_route_matrix_still_shows_its_count(report: dict) -> None:
    import matplotlib.pyplot as plt

    only_math = summarize([outcome(0, "math", True, 1, 0.01), outcome(1, "math", True, 1, 0.01)])
    figure = build_figure(only_math)
    cell_texts = [text.get_text() for text in figure.axes[0].texts]
    plt.close(figure)
    assert cell_texts == ["2"]


def test_write_plot_writes_a_png(report: dict, tmp_path: Path) -> None:
    path = write_plot(report, tmp_path / "deep" / "report.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
