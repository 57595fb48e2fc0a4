"""The solver against every snippet of the stored Chromium corpus (tests/data/browser_corpus.json).

Regenerate the corpus with ``tools/make_browser_corpus.py``. Every entry must match, except
those listed in ``KNOWN_DISAGREEMENTS`` with their cause.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sansio_chat.providers.ddg_challenge import inner_html, inner_html_length, utf16_length

CORPUS_PATH = Path(__file__).parent / "data" / "browser_corpus.json"
CORPUS: dict[str, Any] = json.loads(CORPUS_PATH.read_text(encoding="ascii"))
ENTRIES: list[dict[str, Any]] = CORPUS["entries"]

# Chromium's innerHTML setter has a fast path for simple markup (HTMLDocumentParserFastPath).
# It decodes "&#x;" (a hex reference without digits) to U+FFFD, where the standard, Firefox,
# and Chromium's own full parser (used as soon as the markup leaves the fast path, e.g. inside
# <pre>, or after "&#;") keep the text "&#x;". The solver follows the standard; the
# generator never emits "&#x;". snippet -> (what the standard gives, cause).
FAST_PATH = "Chromium's innerHTML fast path decodes '&#x;' to U+FFFD (not standard)"
KNOWN_DISAGREEMENTS: dict[str, tuple[str, str]] = {
    "&#x;": ("&amp;#x;", FAST_PATH),
    "a&#x;": ("a&amp;#x;", FAST_PATH),
    "&#X;b": ("&amp;#X;b", FAST_PATH),
    '<a title="&#x;">t</a>': ('<a title="&amp;#x;">t</a>', FAST_PATH),
}


def test_corpus_is_well_formed() -> None:
    assert CORPUS["chromium"].startswith("Chromium ")
    assert len(ENTRIES) >= 300
    assert len({entry["snippet"] for entry in ENTRIES}) == len(ENTRIES)
    sources = {entry["source"] for entry in ENTRIES}
    assert sum(source.startswith("generator seed") for source in sources) >= 3
    for entry in ENTRIES:
        assert entry["length"] == utf16_length(entry["inner_html"])
    in_corpus = {entry["snippet"] for entry in ENTRIES}
    assert set(KNOWN_DISAGREEMENTS) <= in_corpus


@pytest.mark.parametrize(
    "entry", ENTRIES, ids=[f"{i}:{e['source']}" for i, e in enumerate(ENTRIES)]
)
def test_solver_matches_chromium(entry: dict[str, Any]) -> None:
    snippet = entry["snippet"]
    ours = inner_html(snippet)
    if snippet in KNOWN_DISAGREEMENTS:
        standard, cause = KNOWN_DISAGREEMENTS[snippet]
        assert ours == standard, cause
        assert ours != entry["inner_html"], f"no longer a disagreement: {cause}"
        assert "\ufffd" in entry["inner_html"], cause
        return
    assert ours == entry["inner_html"]
    assert inner_html_length(snippet) == entry["length"]
