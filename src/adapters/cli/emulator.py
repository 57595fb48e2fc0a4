"""``sansio-chat emulator``: the emulator's options, its configuration from them, the server run.

The emulator server (:mod:`sansio_chat.adapters.emulator`) is imported when the command runs,
like the gateway in :mod:`.serve`; the options need only the pure :mod:`sansio_chat.emulator`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from sansio_chat.adapters.serving import ServerHandle, run_forever

from sansio_chat.emulator import (
    DIALECTS,
    EmulatorConfig,
    FaultSyntaxError,
    parse_fault,
    parse_rate_limit,
)

from ._access_log import LEVELS, AccessLog, configure
from ._types import port

__all__ = ["DEFAULT_PORT", "add_emulator_arguments", "config_from_args", "run_emulator_from_args"]

DEFAULT_PORT = 8765
"""The port ``sansio-chat emulator`` listens on by default."""


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser`` (``sansio-chat emulator``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free)",
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="2025-03",
        help="protocol era of the DuckDuckGo side (default 2025-03)",
    )
    parser.add_argument("--seed", type=int, default=None, help="fixes tokens, challenges, text")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="F",
        help="fault switch KIND[:ARG][xCOUNT][@TARGET], repeatable, e.g. 429x3, cut:120, stall:2",
    )
    parser.add_argument(
        "--conversation-limit",
        type=int,
        default=None,
        metavar="N",
        help="the Nth turn of a conversation ends it ([DONE][LIMIT_CONVERSATION])",
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each write")
    parser.add_argument("--reply-tokens", type=int, default=12, help="words per reply")
    parser.add_argument(
        "--events-per-write",
        type=int,
        default=1,
        metavar="N",
        help="join N events into one write (default 1, as the service did)",
    )
    parser.add_argument(
        "--rate-limit",
        default=None,
        metavar="N/S",
        help="per-client limit: N requests per S seconds per endpoint (default: none)",
    )
    parser.add_argument(
        "--no-challenge-on-chat",
        dest="challenge_on_chat",
        action="store_false",
        help="do not attach a fresh challenge to chat replies",
    )
    parser.add_argument(
        "--reusable-tokens",
        action="store_true",
        help="accept an x-vqd-4 again after its turn (stepping back and branching)",
    )
    parser.add_argument(
        "--backend", choices=("asyncio", "trio"), default="asyncio", help="event loop"
    )
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        default="info",
        help="info (default): one access line per request on stderr; warning: only failures",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build the configuration from parsed options; raises ``ValueError`` on bad values."""
    faults: Iterable[str] = args.fault or ()
    for spec in faults:
        parse_fault(spec)
    return EmulatorConfig(
        dialect=args.dialect,
        seed=args.seed,
        reply_tokens=args.reply_tokens,
        delay=args.delay,
        conversation_limit=args.conversation_limit,
        rate_limit=parse_rate_limit(args.rate_limit) if args.rate_limit else None,
        challenge_on_chat=args.challenge_on_chat,
        events_per_write=args.events_per_write,
        reusable_tokens=args.reusable_tokens,
        faults=tuple(faults),
    )


def run_emulator_from_args(args: argparse.Namespace) -> int:
    """Serve both emulated services until Ctrl-C or SIGTERM; return the exit status."""
    from sansio_chat.adapters.emulator import EmulatorApp

    try:
        config = config_from_args(args)
    except (FaultSyntaxError, ValueError) as error:
        print(f"sansio-chat emulator: {error}", file=sys.stderr)
        return 2
    app = EmulatorApp(config)

    def ready(handle: ServerHandle) -> None:
        seed = app.control.seed
        print(
            f"sansio-chat emulator on {handle.base_url} (dialect {config.dialect}, seed {seed})",
            flush=True,
        )
        print(
            f"  DuckDuckGo: {handle.base_url}/duckchat/v1/chat   DarkAI: {handle.base_url}/chat",
            flush=True,
        )

    try:
        configure(args.log_level)
        run_forever(AccessLog(app, "emulator"), args.host, args.port, ready, backend=args.backend)
    except OSError as error:
        print(
            f"sansio-chat emulator: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    return 0
