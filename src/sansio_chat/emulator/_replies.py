"""Deterministic reply text: the same seed and prompt always give the same tokens."""

from __future__ import annotations

import random

__all__ = ["WORDS", "expected_reply", "reply_tokens"]

# Mostly ASCII, with two-, three- and four-byte UTF-8 characters (and an emoji, two UTF-16
# code units) mixed in, so splitting writes can land inside a character.
WORDS: tuple[str, ...] = (
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "and",
    "emulated",
    "replies",
    "stream",
    "token",
    "by",
    "token",
    "café",
    "naïve",
    "über",
    "crème",
    "straße",
    "Ωmega",
    "日本語",
    "héllo",
    "🙂",
    "world",
    "sans-IO",
    "protocol",
    "is",
    "fun",
    "\u2014",
    "ok.",
)


def _rng(seed: int, prompt: str) -> random.Random:
    # A str seed is hashed with SHA-512 by random.Random: stable across runs and platforms.
    return random.Random(f"sansio-chat-reply:{seed}:{prompt}")


def reply_tokens(seed: int, prompt: str, count: int) -> list[str]:
    """The ``count`` text pieces the emulator streams for ``prompt`` under ``seed``.

    The first piece is a word; every later one is a space and a word.
    """
    rng = _rng(seed, prompt)
    words = [WORDS[rng.randrange(len(WORDS))] for _ in range(count)]
    return [word if index == 0 else " " + word for index, word in enumerate(words)]


def expected_reply(seed: int, prompt: str, count: int) -> str:
    """The whole reply text for ``prompt``: what a client should print."""
    return "".join(reply_tokens(seed, prompt, count))
