"""The page model's ``innerHTML``: the project's WHATWG fragment parser, seen from JavaScript.

``inner_html`` (from :mod:`sansio_chat.providers.ddg_challenge`) gives what a browser reads back
after ``div.innerHTML = snippet``. The page model also needs the elements the parse created, for
``querySelectorAll('*').length`` and tag or attribute selectors: :func:`parse_fragment` takes
both from one walk of one parse (``inner_html_elements``), so every place where the solver
corrects Lexbor towards Chromium (a textarea holds text only, Chromium's depth cap, NULs,
lone surrogates) holds for the element list as it does for the markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from sansio_chat import ChallengeError
from sansio_chat.providers.ddg_challenge import inner_html_elements

__all__ = ["MAX_SNIPPET_CHARS", "Fragment", "element_count", "parse_fragment"]

MAX_SNIPPET_CHARS = 64 * 1024
"""The longest snippet the page model parses; a longer one fails the challenge."""


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


def parse_fragment(snippet: str) -> Fragment:
    """Parse ``snippet`` as ``div.innerHTML = snippet`` does (``ChallengeError`` if too big)."""
    if len(snippet) > MAX_SNIPPET_CHARS:
        raise ChallengeError(f"an innerHTML snippet is longer than {MAX_SNIPPET_CHARS} characters")
    html, elements = inner_html_elements(snippet)
    return Fragment(html=html, elements=elements)


def element_count(snippet: str) -> int:
    """``div.querySelectorAll('*').length`` after ``div.innerHTML = snippet``."""
    return parse_fragment(snippet).count
