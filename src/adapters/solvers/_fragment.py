"""The page model's ``innerHTML``: the project's WHATWG fragment parser, seen from JavaScript.

``inner_html`` (from :mod:`sansio_chat.providers.ddg_challenge`) gives what a browser reads back
after ``div.innerHTML = snippet``. The page model also needs the elements the parse created, for
``querySelectorAll('*').length`` and tag or attribute selectors: :func:`parse_fragment` takes
them from the same parse (same context document, same Lexbor options).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from sansio_chat import ChallengeError
from sansio_chat.providers.ddg_challenge import inner_html

__all__ = ["MAX_SNIPPET_CHARS", "Fragment", "element_count", "parse_fragment"]

MAX_SNIPPET_CHARS = 64 * 1024
"""The longest snippet the page model parses; a longer one fails the challenge."""

_CONTEXT_DOCUMENT = "<!DOCTYPE html><html><head></head><body><div></div></body></html>"


@dataclass(frozen=True, slots=True)
class Fragment:
    """One parsed snippet.

    Attributes:
        html: the serialization a browser's ``innerHTML`` reads back.
        elements: the descendant elements in tree order, as ``(local name, attributes)``;
            template contents are not descendants (as for ``querySelectorAll``).
    """

    html: str
    elements: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @property
    def count(self) -> int:
        """``querySelectorAll('*').length`` on the element holding the fragment."""
        return len(self.elements)

    def to_json(self) -> dict[str, object]:
        """The form the page model's JavaScript reads."""
        return {
            "html": self.html,
            "elements": [[name, [list(pair) for pair in attrs]] for name, attrs in self.elements],
        }


def _children(node: LexborNode) -> Iterator[LexborNode]:
    child = node.child
    while child is not None:
        yield child
        child = child.next


def _walk(node: LexborNode, out: list[tuple[str, tuple[tuple[str, str], ...]]]) -> None:
    for child in _children(node):
        if child.is_element_node and child.tag is not None and not child.tag.startswith("-"):
            attrs = tuple((name, value or "") for name, value in child.attributes.items())
            out.append((child.tag, attrs))
            _walk(child, out)


def parse_fragment(snippet: str) -> Fragment:
    """Parse ``snippet`` as ``div.innerHTML = snippet`` does (``ChallengeError`` if too big)."""
    if len(snippet) > MAX_SNIPPET_CHARS:
        raise ChallengeError(f"an innerHTML snippet is longer than {MAX_SNIPPET_CHARS} characters")
    html = inner_html(snippet)
    # Lexbor reads UTF-8: lone surrogates cannot change the element structure, so they are
    # replaced here (inner_html keeps them in the serialization).
    clean = snippet.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    document = LexborHTMLParser(_CONTEXT_DOCUMENT, scripting=True)
    body = document.body
    div = body.child if body is not None else None
    if div is None or div.tag != "div":  # pragma: no cover - the context document is fixed
        raise ChallengeError("could not create the div context")
    div.inner_html = clean
    elements: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    _walk(div, elements)
    return Fragment(html=html, elements=tuple(elements))


def element_count(snippet: str) -> int:
    """``div.querySelectorAll('*').length`` after ``div.innerHTML = snippet``."""
    return parse_fragment(snippet).count
