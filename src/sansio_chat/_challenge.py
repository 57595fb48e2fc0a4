"""Script challenges as a step: what the session asks a driver to evaluate, and the answer.

DuckDuckGo's ``2026`` dialect sends a challenge that is a JavaScript program; only a
browser-like engine can answer it. The core runs no JavaScript, so ``next_step()`` returns a
:class:`SolveChallenge` describing the script and the clean page it must run on, and the driver
answers with ``receive_challenge_result(ChallengeResult(...))`` or
``receive_challenge_failure(reason)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import final

__all__ = [
    "DEFAULT_JSA_CSP",
    "DEFAULT_JSA_SANDBOX",
    "ChallengePage",
    "ChallengeResult",
    "SolveChallenge",
]

DEFAULT_JSA_SANDBOX = "allow-scripts allow-same-origin"
"""The ``sandbox`` attribute of duck.ai's ``#jsa`` iframe."""

DEFAULT_JSA_CSP = "default-src 'none'; script-src 'unsafe-inline';"
"""The Content-Security-Policy ``<meta>`` content inside the ``#jsa`` iframe's document."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ChallengePage:
    """The clean page and browser identity a challenge script must see.

    The script runs inside the page's ``#jsa`` iframe and reaches the page through
    ``window.top``. Everything here must agree with the headers the session sends
    (``user-agent``, ``sec-ch-ua*``), so one browser identity is described once.

    Attributes:
        origin: the page's origin, e.g. ``"https://duck.ai"`` (no trailing slash).
        user_agent: ``navigator.userAgent``.
        brands: ``navigator.userAgentData.brands`` as ``(brand, major version)`` pairs, in order.
        mobile: ``navigator.userAgentData.mobile``.
        platform: ``navigator.userAgentData.platform``, e.g. ``"Linux"``, ``"Windows"``.
        languages: ``navigator.languages``; ``navigator.language`` is the first.
        be_version: the value of ``window.top.__DDG_BE_VERSION__``.
        fe_chat_hash: the value of ``window.top.__DDG_FE_CHAT_HASH__``.
        jsa_sandbox: the ``#jsa`` iframe's ``sandbox`` attribute.
        jsa_csp: the CSP ``<meta>`` content of the ``#jsa`` iframe's document.
    """

    origin: str
    user_agent: str
    brands: tuple[tuple[str, str], ...]
    mobile: bool = False
    platform: str = "Linux"
    languages: tuple[str, ...] = ("en-US", "en")
    be_version: str = ""
    fe_chat_hash: str = ""
    jsa_sandbox: str = DEFAULT_JSA_SANDBOX
    jsa_csp: str = DEFAULT_JSA_CSP

    @property
    def sec_ch_ua(self) -> str:
        """The ``sec-ch-ua`` header value these brands give: ``"Brand";v="N", ...``."""
        return ", ".join(f'"{brand}";v="{version}"' for brand, version in self.brands)

    @property
    def sec_ch_ua_mobile(self) -> str:
        """The ``sec-ch-ua-mobile`` header value: ``?0`` or ``?1``."""
        return "?1" if self.mobile else "?0"

    @property
    def sec_ch_ua_platform(self) -> str:
        """The ``sec-ch-ua-platform`` header value: the platform in double quotes."""
        return f'"{self.platform}"'


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SolveChallenge:
    """Evaluate ``script`` on ``page``, then answer the session.

    Answer with ``session.receive_challenge_result(ChallengeResult(...))``, or with
    ``session.receive_challenge_failure(reason)`` when the script cannot be evaluated.

    Attributes:
        script: the decoded JavaScript text of the challenge (untrusted input).
        page: the page and browser identity the script must see.
    """

    script: str = field(repr=False)
    page: ChallengePage


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ChallengeResult:
    """What a challenge script resolved to.

    Attributes:
        value: the JSON-compatible value the script's promise resolved to (dicts, lists,
            str, int, float, bool, None).
        duration_ms: how long the evaluation took, in milliseconds.
    """

    value: object = field(repr=False)
    duration_ms: float
