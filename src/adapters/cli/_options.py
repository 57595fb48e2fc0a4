"""The client commands' options and their settings from the environment.

Imports nothing heavier than :mod:`argparse` and the pure core's provider registry, so that
``sansio-chat --help`` and ``sansio-chat models`` start as fast as the interpreter allows.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping

from ._types import (
    non_negative_int,
    non_negative_seconds,
    positive_int,
    positive_seconds,
    proxy_url,
    service_url,
)

__all__ = ["DIALECTS", "ENVIRONMENT", "PROVIDERS", "SOLVERS", "client_options", "env_default"]

DIALECTS = ("2024", "2025-03", "2026")
"""The protocol eras a client speaks to DuckDuckGo (``--dialect``; default: discover), spelled
out so that ``--help`` need not import the provider (a test keeps them equal). The emulator's
``2025-03-lenient`` is a server setting: to a client it is ``2025-03``."""

SOLVERS = ("v8", "chromium")
"""The script-challenge solvers (``--solver``)."""

PROVIDERS = ("ddg", "darkai")
"""``sansio_chat.providers.names()``, spelled out so that ``--help`` need not import the
providers (a test keeps the two equal)."""

ENVIRONMENT: Mapping[str, tuple[str, str]] = {
    # variable: (the option it sets, what it means)
    "SANSIO_CHAT_PROVIDER": ("-p/--provider", "ddg or darkai"),
    "SANSIO_CHAT_MODEL": ("-m/--model", "a model id, alias or PROVIDER/MODEL"),
    "SANSIO_CHAT_BASE_URL": ("--base-url", "where the service is (e.g. the emulator)"),
    "SANSIO_CHAT_PROXY": ("--proxy", "an http(s) or socks5 proxy URL"),
    "SANSIO_CHAT_TIMEOUT": ("--timeout", "connect and read timeout, seconds"),
    "SANSIO_CHAT_MIN_INTERVAL": ("--min-interval", "seconds between turns sent to one host"),
    "SANSIO_CHAT_MAX_RETRIES": ("--max-retries", "retries of a refused request"),
    "SANSIO_CHAT_SYSTEM": ("-s/--system", "a system prompt for new conversations"),
    "SANSIO_CHAT_SOLVER": ("--solver", "v8 or chromium"),
    "SANSIO_CHAT_DIALECT": ("--dialect", "2024, 2025-03 or 2026"),
    "SANSIO_CHAT_DATA_DIR": ("", "where conversations and the chat history are kept"),
    "SANSIO_CHAT_API_KEY": ("serve --api-key", "the gateway's bearer key"),
    "NO_COLOR": ("--plain", "any value: no colour (rich honours it)"),
}
"""Every environment variable the command reads; an option given on the line wins."""


def env_default(name: str) -> str | None:
    """The value of ``SANSIO_CHAT_<NAME>`` (``None`` when unset or empty)."""
    value = os.environ.get(f"SANSIO_CHAT_{name}", "").strip()
    return value or None


def _env_typed(name: str, parse: object) -> object:
    raw = env_default(name)
    if raw is None:
        return None
    try:
        return parse(raw)  # type: ignore[operator]
    except argparse.ArgumentTypeError as error:
        sys.stderr.write(f"sansio-chat: error: $SANSIO_CHAT_{name}: {error}\n")
        raise SystemExit(2) from None


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A parser of ``$SANSIO_CHAT_<NAME>`` for an option with ``choices`` (argparse checks a
    default against none)."""

    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return parse


def client_options(parser: argparse.ArgumentParser, *, service: bool = True) -> None:
    """Add the options of ``ask``, ``chat`` (``service``) and ``demo`` to ``parser``."""
    from sansio_chat import DEFAULT_MIN_INTERVAL

    add = parser.add_argument
    add(
        "-p",
        "--provider",
        choices=PROVIDERS,
        default=_env_typed("PROVIDER", _one_of(PROVIDERS)),
        help="the service: ddg (default) or darkai [$SANSIO_CHAT_PROVIDER]",
    )
    add(
        "-m",
        "--model",
        default=env_default("MODEL"),
        help="a model id or alias, or PROVIDER/MODEL as the gateway takes it "
        "(see `sansio-chat models`) [$SANSIO_CHAT_MODEL]",
    )
    add(
        "-s",
        "--system",
        default=env_default("SYSTEM"),
        metavar="TEXT",
        help="a system prompt, sent with the first turn of a new conversation "
        "[$SANSIO_CHAT_SYSTEM]",
    )
    if service:
        add(
            "--base-url",
            type=service_url,
            default=_env_typed("BASE_URL", service_url),
            metavar="URL",
            help="where the service is, e.g. the emulator's http://127.0.0.1:8765 "
            "(default: the real service) [$SANSIO_CHAT_BASE_URL]",
        )
        add(
            "--proxy",
            type=proxy_url,
            default=_env_typed("PROXY", proxy_url),
            metavar="URL",
            help="an http(s) or socks5 proxy URL [$SANSIO_CHAT_PROXY]",
        )
        add(
            "--timeout",
            type=positive_seconds,
            default=_env_typed("TIMEOUT", positive_seconds),
            metavar="S",
            help="connect and read timeout in seconds (default 10 and 60) [$SANSIO_CHAT_TIMEOUT]",
        )
        add(
            "--insecure",
            action="store_true",
            help="do not verify TLS certificates (only for a test server you trust)",
        )
        # The gateway's old spelling, kept working but not advertised: one name per thing.
        add("--no-verify", dest="insecure", action="store_true", help=argparse.SUPPRESS)
        interval = _env_typed("MIN_INTERVAL", non_negative_seconds)
        add(
            "--min-interval",
            type=non_negative_seconds,
            default=DEFAULT_MIN_INTERVAL if interval is None else interval,
            metavar="S",
            help=f"seconds between turns sent to one host (default {DEFAULT_MIN_INTERVAL}; "
            "0 for the emulator) [$SANSIO_CHAT_MIN_INTERVAL]",
        )
        add(
            "--max-retries",
            type=non_negative_int,
            default=_env_typed("MAX_RETRIES", non_negative_int),
            metavar="N",
            help="retries of a refused (429/418) request before giving up (default 3) "
            "[$SANSIO_CHAT_MAX_RETRIES]",
        )
        add(
            "--no-retry",
            dest="max_retries",
            action="store_const",
            const=0,
            help="give up at the first refusal (same as --max-retries 0)",
        )
        add(
            "-c",
            "--continue",
            dest="continue_",
            action="store_true",
            help="continue the most recent saved conversation",
        )
        add(
            "--conversation",
            metavar="ID|FILE",
            default=None,
            help="continue a saved conversation (an id from `sansio-chat conversations`) or "
            "a JSON file (created if missing), and save each finished turn there",
        )
        add(
            "--no-save",
            action="store_true",
            help="do not keep this conversation (by default it is saved in the data directory)",
        )
    add(
        "--dialect",
        choices=DIALECTS,
        default=_env_typed("DIALECT", _one_of(DIALECTS)),
        help="the DuckDuckGo protocol era (default: discover it) [$SANSIO_CHAT_DIALECT]",
    )
    add(
        "--solver",
        choices=SOLVERS,
        default=_env_typed("SOLVER", _one_of(SOLVERS)),
        help="what answers the 2026 script challenges: v8 (in-process, the default) or "
        "chromium (a headless browser) [$SANSIO_CHAT_SOLVER]",
    )
    add(
        "--max-reply-chars",
        type=positive_int,
        default=None,
        metavar="N",
        help="refuse a reply longer than N characters (default: the library's limit)",
    )
    add("--json", action="store_true", help="one JSON event per line on stdout")
    add(
        "--plain",
        action="store_true",
        help="print the reply as plain text (the default when stdout is not a terminal)",
    )
    add(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on stderr (spinner, countdowns, retry notes)",
    )
    add("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks and logs")
