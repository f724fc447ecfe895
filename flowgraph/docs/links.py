"""Check the internal links of a built HTML site: every local href names an existing file and,
when it has a ``#fragment``, an element with that id. External links are not followed.

The "[docs]" back-links of viewcode's source pages (``_modules/``) are checked for their file
only: viewcode derives their fragments from where an object is imported from, which can differ
from the name its entry is documented under (``flowgraph.OpError`` for
``flowgraph.errors.OpError``); such a link still lands on the right page.

>>> import tempfile, pathlib
>>> site = pathlib.Path(tempfile.mkdtemp())
>>> _ = (site / "a.html").write_text('<a href="b.html#x">b</a> <a href="https://x.org">x</a>')
>>> _ = (site / "b.html").write_text('<h1 id="y">B</h1>')
>>> broken_links(site)
['a.html: b.html#x (no id "x" there)']
"""

from __future__ import annotations

from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            self.hrefs.append(attrs["src"])


@cache
def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector


def broken_links(site: Path) -> list[str]:
    """``"page: href (why)"`` for each internal link of the site's pages that leads nowhere."""
    site = Path(site)
    _parse.cache_clear()
    broken = []
    for page in sorted(site.rglob("*.html")):
        for href in _parse(page).hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = page.relative_to(site).as_posix()
            if not target.exists():
                broken.append(f"{where}: {href} (no such file)")
            elif parts.fragment and target.suffix == ".html" and "_modules" not in page.parts:
                if unquote(parts.fragment) not in _parse(target).ids:
                    broken.append(f'{where}: {href} (no id "{parts.fragment}" there)')
    return broken
