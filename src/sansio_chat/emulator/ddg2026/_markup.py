"""The markup probe's model: ``innerHTML.length`` and ``querySelectorAll('*').length``.

Both come from the WHATWG fragment parsing the ``2025-03`` solver already does (Lexbor's tree,
the project's own serializer), so they hold for the snippets the ``2025-03`` generator emits:
those were measured against Chromium (docs/challenge.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

from sansio_chat.providers.ddg_challenge import inner_html_length

__all__ = ["element_count", "inner_html_length"]

_CONTEXT_DOCUMENT = "<!DOCTYPE html><html><head></head><body><div></div></body></html>"


def _children(node: LexborNode) -> Iterator[LexborNode]:
    child = node.child
    while child is not None:
        yield child
        child = child.next


def _is_html(node: LexborNode, tag: str) -> bool:
    # selectolax exposes no namespace; Lexbor's serializer prefixes foreign tags on request.
    pretty = node.html_pretty(tag_with_ns=True) or ""
    return pretty.startswith(f"<{tag}") and pretty[len(tag) + 1 : len(tag) + 2] in (">", " ", "\n")


def _count(node: LexborNode) -> int:
    total = 0
    for child in _children(node):
        if not child.is_element_node:
            continue
        total += 1
        tag = child.tag or ""
        # A template's contents live in a separate fragment that querySelectorAll never
        # enters; a textarea holds text only (Lexbor may reconstruct formatting elements
        # inside it, Chromium and the standard do not).
        if tag in ("template", "textarea") and _is_html(child, tag):
            continue
        total += _count(child)
    return total


def element_count(snippet: str) -> int:
    """``div.querySelectorAll('*').length`` after ``div.innerHTML = snippet``.

    Raises ``ValueError`` for a snippet holding a lone surrogate (Lexbor reads UTF-8); the
    generator never makes one.
    """
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in snippet):
        raise ValueError("a snippet with a lone surrogate cannot be counted")
    document = LexborHTMLParser(_CONTEXT_DOCUMENT, scripting=True)
    body = document.body
    div = body.child if body is not None else None
    if div is None or div.tag != "div":  # pragma: no cover - the context document is fixed
        raise ValueError("could not create the div context")
    div.inner_html = snippet
    return _count(div)
