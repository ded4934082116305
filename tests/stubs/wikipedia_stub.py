"""A MediaWiki ``w/api.php`` stub that the real ``wikipedia`` package can talk to.

It answers the queries ``wikipedia`` 1.4 sends (always ``format=json``, ``action=query``):

* ``list=search&srsearch=...`` – titles ranked by shared words (``srlimit`` honoured);
* ``prop=info|pageprops&titles=...`` – page info with ``fullurl``; ``missing`` for unknown
  titles, a ``redirects`` list for :data:`REDIRECTS`, ``pageprops.disambiguation`` for
  :data:`DISAMBIGUATIONS`;
* ``prop=revisions&rvparse`` – the rendered HTML of a disambiguation page (its option list);
* ``prop=extracts|revisions&explaintext`` – the plain-text article (``page.content``);
* ``prop=extracts&exintro`` – the first paragraph (``page.summary``).

Modes: ``ok``, ``slow`` (answers after ``slow_seconds``), ``stall`` (waits ``stall_seconds``,
then closes without answering), ``error500``,
``rate_limited`` (HTTP 429 with ``Retry-After: 1``), ``not_json`` (HTTP 200 with an HTML page),
``api_error`` (HTTP 200 with a MediaWiki ``error`` object).

Usage::

    with WikipediaStub() as stub:
        retriever = WikipediaRetriever(api_url=stub.api_url, timeout=1.0)
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

from tests.stubs import CORPUS, Article, StubServer, rank_articles, words

API_PATH = "/w/api.php"
REDIRECTS: dict[str, str] = {"Pyramids of Egypt": "Egyptian pyramids"}
DISAMBIGUATIONS: dict[str, tuple[str, ...]] = {"Curie": ("Marie Curie", "Curie (unit)")}
_DISAMBIGUATION_PAGEID = 5000


def wiki_url(title: str) -> str:
    """The article address the stub reports for ``title``, shaped like the real API's."""
    return "https://en.wikipedia.org/wiki/" + title.replace(" ", "_")


class WikipediaStub(StubServer):
    """MediaWiki API stub; ``api_url`` is what ``WikipediaRetriever(api_url=...)`` takes."""

    MODES: ClassVar[frozenset[str]] = StubServer.MODES | {"rate_limited", "not_json", "api_error"}

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    def handle(self, request: BaseHTTPRequestHandler, record: dict[str, Any]) -> None:
        params: dict[str, str] = record["params"]
        if record["path"] != API_PATH:
            self.send_json(request, 404, {"error": {"code": "notfound", "info": record["path"]}})
            return
        if self.mode == "rate_limited":
            self.send_json(request, 429, {"error": "too many requests"}, {"Retry-After": "1"})
            return
        if self.mode == "not_json":
            body = b"<html><body>Wikimedia error</body></html>"
            request.send_response(200)
            request.send_header("Content-Type", "text/html")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
            return
        if self.mode == "api_error":
            self.send_json(request, 200, {"error": {"code": "internal", "info": "stub failure"}})
            return
        self.send_json(request, 200, self.answer(params))

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        """The JSON body for one API query (``ok`` mode)."""
        if params.get("format") != "json" or params.get("action", "query") != "query":
            return {"error": {"code": "badparams", "info": "stub answers action=query only"}}
        if params.get("list") == "search":
            return self._search(params)
        prop = params.get("prop", "")
        if prop == "info|pageprops":
            return self._info(params.get("titles", ""))
        if prop == "revisions" and "rvparse" in params:
            return self._disambiguation_html(params.get("titles", ""))
        if prop.startswith("extracts"):
            return self._extract(params)
        return {"error": {"code": "badparams", "info": f"stub does not know prop={prop!r}"}}

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        limit = int(params.get("srlimit", "10"))
        query = params.get("srsearch", "")
        hits = [
            {"ns": 0, "title": title, "pageid": _DISAMBIGUATION_PAGEID}
            for title in DISAMBIGUATIONS
            if words(title) <= words(query)
        ]
        hits += [
            {"ns": 0, "title": a.title, "pageid": a.pageid} for a in rank_articles(query, limit)
        ]
        body: dict[str, Any] = {
            "batchcomplete": "",
            "query": {"searchinfo": {"totalhits": len(hits)}, "search": hits[:limit]},
        }
        return body

    def _info(self, title: str) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if title in REDIRECTS:
            query["redirects"] = [{"from": title, "to": REDIRECTS[title]}]
            title = REDIRECTS[title]
        if title in DISAMBIGUATIONS:
            page = self._page_info(_DISAMBIGUATION_PAGEID, title)
            page["pageprops"] = {"disambiguation": ""}
            query["pages"] = {str(_DISAMBIGUATION_PAGEID): page}
        elif (article := _find(title)) is not None:
            query["pages"] = {str(article.pageid): self._page_info(article.pageid, article.title)}
        else:
            query["pages"] = {"-1": {"ns": 0, "title": title, "missing": ""}}
        return {"batchcomplete": "", "query": query}

    @staticmethod
    def _page_info(pageid: int, title: str) -> dict[str, Any]:
        return {
            "pageid": pageid,
            "ns": 0,
            "title": title,
            "contentmodel": "wikitext",
            "pagelanguage": "en",
            "touched": "2024-01-01T00:00:00Z",
            "lastrevid": pageid * 10,
            "length": 1000,
            "fullurl": wiki_url(title),
            "editurl": wiki_url(title) + "?action=edit",
            "canonicalurl": wiki_url(title),
        }

    @staticmethod
    def _disambiguation_html(title: str) -> dict[str, Any]:
        options = DISAMBIGUATIONS.get(title, ())
        items = "".join(
            f'<li><a href="/wiki/{o.replace(" ", "_")}" title="{o}">{o}</a>, a meaning</li>'
            for o in options
        )
        html = f"<p><b>{title}</b> may refer to:</p><ul>{items}</ul>"
        page = {"pageid": _DISAMBIGUATION_PAGEID, "ns": 0, "title": title}
        page["revisions"] = [{"*": html}]  # type: ignore[assignment]
        return {"query": {"pages": {str(_DISAMBIGUATION_PAGEID): page}}}

    @staticmethod
    def _extract(params: dict[str, str]) -> dict[str, Any]:
        title = params.get("titles", "")
        article = _find(title)
        if article is None:
            return {"query": {"pages": {"-1": {"ns": 0, "title": title, "missing": ""}}}}
        intro_only = "exintro" in params
        page: dict[str, Any] = {
            "pageid": article.pageid,
            "ns": 0,
            "title": article.title,
            "extract": article.paragraphs[0] if intro_only else article.text,
        }
        if "revisions" in params.get("prop", ""):
            page["revisions"] = [
                {"revid": article.pageid * 10, "parentid": article.pageid * 10 - 1}
            ]
        return {"batchcomplete": "", "query": {"pages": {str(article.pageid): page}}}


def _find(title: str) -> Article | None:
    return next((a for a in CORPUS if a.title == title), None)
