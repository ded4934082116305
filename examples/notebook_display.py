"""Small display helpers shared by the notebooks in ``notebooks/``.

Drawing a graph without a network call: LangGraph's ``draw_mermaid_png`` sends the diagram
to a web service, so the notebooks never use it. :func:`show_graph` shows the same graph two
ways instead:

* as a Mermaid block in a Markdown output, which JupyterLab 4.1+ and VS Code render
  themselves (no network). A static HTML export (nbconvert) would need mermaid.js from a CDN
  to draw it, so there it stays text;
* as a text drawing from ``draw_ascii()``, which every viewer shows, static HTML included.
  It needs the small pure-Python layout package ``grandalf``; without it the cell says how
  to install it instead of failing.
"""

from __future__ import annotations

from typing import Any

from IPython.display import Markdown, display

NO_GRANDALF = "(text drawing skipped: `pip install grandalf` to see the graph as text here too)"


def mermaid_markdown(graph: Any, *, xray: bool | int = False) -> Markdown:
    """The graph as a Markdown ```` ```mermaid ```` block.

    Args:
        graph: A compiled LangGraph graph (anything with ``get_graph``).
        xray: Draw the nodes inside subgraphs too (``True`` or a depth).
    """
    return Markdown(f"```mermaid\n{graph.get_graph(xray=xray).draw_mermaid()}\n```")


def ascii_drawing(graph: Any, *, xray: bool | int = False) -> str:
    """The graph drawn in text, or a one-line note when ``grandalf`` is not installed."""
    try:
        return str(graph.get_graph(xray=xray).draw_ascii())
    except ImportError:  # langchain-core imports grandalf lazily and says so
        return NO_GRANDALF


def show_graph(graph: Any, *, xray: bool | int = False) -> None:
    """Display ``graph`` as rendered Mermaid (where supported) and as a text drawing."""
    display(mermaid_markdown(graph, xray=xray))
    print(ascii_drawing(graph, xray=xray))
