"""Fresh emulator challenges under random browser identities, for the solver agreement checks.

Shared by ``tests/test_solvers_agreement.py`` (the CI sample) and ``bench/bench_solvers.py
--agreement N`` (the large run): both draw a page and a challenge per case from one seeded
``random.Random``, force every probe family at least once, and compare V8Solver, Chromium and
the generator's prediction value by value.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from sansio_chat import ChallengeError, ChallengePage, ChallengeResult, SolveChallenge
from sansio_chat._challenge import DEFAULT_JSA_CSP, DEFAULT_JSA_SANDBOX
from sansio_chat.emulator.ddg2026 import PROBE_FAMILIES, Challenge2026, generate_challenge

__all__ = [
    "SYSTEMS",
    "Case",
    "Outcome",
    "cases",
    "compare",
    "random_identity",
    "run_solver",
    "value_paths",
]

# (navigator.userAgent's platform token, userAgentData.platform, mobile)
SYSTEMS = (
    ("Windows NT 10.0; Win64; x64", "Windows", False),
    ("Macintosh; Intel Mac OS X 10_15_7", "macOS", False),
    ("X11; Linux x86_64", "Linux", False),
    ("X11; CrOS x86_64 14541.0.0", "Chrome OS", False),
    ("Linux; Android 10; K", "Android", True),
)
# Chromium's GREASE brands use these punctuation characters; a quote or backslash would be
# escaped differently by sec-ch-ua and by a plain join, so real browsers never send one.
_GREASE = ("Not)A;Brand", "Not=A?Brand", "Not/A)Brand", "Not.A/Brand", "Not_A Brand", "Not:A-Brand")
_PRODUCTS = (
    ("Google Chrome", ""),
    ("Microsoft Edge", " Edg/{major}.0.0.0"),
    ("Opera", " OPR/{opr}.0.0.0"),
    ("Brave", ""),
)
_LANGUAGES = (("en-US", "en"), ("de-DE", "de", "en-US", "en"), ("fr-FR",), ("ja",), ("pt-BR", "pt"))
# Variants of the #jsa strings that still let the script run (scripts and same-origin access
# allowed, inline scripts allowed); the generator predicts that the probe's check fails.
_SANDBOXES = (
    "allow-same-origin allow-scripts",
    "allow-scripts  allow-same-origin",
    "allow-scripts allow-same-origin allow-forms",
)
_CSPS = (
    "default-src 'none';  script-src 'unsafe-inline';",
    "script-src 'unsafe-inline'; default-src 'none';",
    "default-src 'none'; script-src 'unsafe-inline'",
)
_ORIGINS = ("https://duck.ai", "http://127.0.0.1:8765", "http://localhost:3000")


def random_identity(
    rng: random.Random, *, misdescribed: float = 0.15, system: int | None = None
) -> ChallengePage:
    """A random coherent browser identity and page.

    User agent (desktop and Android, Chrome and Chromium-based products), brands (two to four,
    shuffled, GREASE included; sometimes none at all), ``userAgentData.platform``, mobile,
    languages, origin (secure contexts only: ``https`` or loopback ``http``), the version
    globals (sometimes empty or with markup characters), and with probability
    ``misdescribed`` a ``#jsa`` sandbox or CSP that differs from the spec's strings.
    ``system`` picks the operating system (an index of ``SYSTEMS``) instead of chance.
    """
    major = str(rng.randint(110, 160))
    token, platform, mobile = rng.choice(SYSTEMS) if system is None else SYSTEMS[system]
    product, suffix = rng.choice(_PRODUCTS)
    ua = (
        f"Mozilla/5.0 ({token}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 {'Mobile ' if mobile else ''}Safari/537.36"
        + suffix.format(major=major, opr=int(major) - 14)
    )
    if rng.random() < 0.05:
        brands: list[tuple[str, str]] = []
    else:
        brands = [("Chromium", major), (rng.choice(_GREASE), rng.choice(("8", "24", "99")))]
        if product != "Brave" or rng.random() < 0.5:
            brands.append((product, major))
        if rng.random() < 0.1:
            brands.append(("Extra Brand", str(rng.randint(1, 999))))
        rng.shuffle(brands)
    sandbox, csp = DEFAULT_JSA_SANDBOX, DEFAULT_JSA_CSP
    if rng.random() < misdescribed:
        if rng.random() < 0.5:
            sandbox = rng.choice(_SANDBOXES)
        else:
            csp = rng.choice(_CSPS)
    roll = rng.random()
    if roll < 0.1:
        be_version, fe_hash = "", ""
    elif roll < 0.2:
        be_version, fe_hash = "be<\"&'>\u00e9", "</script>"
    else:
        be_version, fe_hash = f"serp_2026{rng.randrange(10**6):06d}", f"{rng.getrandbits(160):040x}"
    return ChallengePage(
        origin=rng.choice(_ORIGINS),
        user_agent=ua,
        brands=tuple(brands),
        mobile=mobile,
        platform=platform,
        languages=rng.choice(_LANGUAGES),
        be_version=be_version,
        fe_chat_hash=fe_hash,
        jsa_sandbox=sandbox,
        jsa_csp=csp,
    )


@dataclass(frozen=True, slots=True)
class Case:
    """One challenge on one page: what the solvers get and what the generator predicts."""

    index: int
    page: ChallengePage
    challenge: Challenge2026

    @property
    def step(self) -> SolveChallenge:
        """The session's step for this case."""
        return SolveChallenge(script=self.challenge.script, page=self.page)


def _forced(rng: random.Random) -> list[list[str]]:
    """Probe lists that force every family: each alone, each beside others, all at once."""
    lists: list[list[str]] = []
    for family in PROBE_FAMILIES:
        lists.append([family])
        others = rng.sample([f for f in PROBE_FAMILIES if f != family], k=2)
        lists.append([family, *others])
    lists.append(list(PROBE_FAMILIES))
    lists.append(["markup", "markup", "markup", "jsa", "jsa"])
    return lists


def _page(rng: random.Random, index: int) -> ChallengePage:
    """The identity of case ``index``; the first cases force the rare kinds of page."""
    if index < len(SYSTEMS):
        return random_identity(rng, misdescribed=0.0, system=index)
    page = random_identity(rng)
    if index == len(SYSTEMS):
        return replace(page, brands=())
    if index == len(SYSTEMS) + 1:
        return replace(page, jsa_sandbox=rng.choice(_SANDBOXES))
    if index == len(SYSTEMS) + 2:
        return replace(page, jsa_csp=rng.choice(_CSPS))
    return page


def cases(seed: int, count: int) -> Iterator[Case]:
    """``count`` cases from ``seed``.

    The first ones force every probe family (alone, beside two others, all at once, markup
    and ``#jsa`` repeated) and the rare identities (every operating system, mobile included;
    no brands; a misdescribed ``#jsa`` sandbox, then CSP); the rest are the generator's and
    :func:`random_identity`'s free choice.
    """
    rng = random.Random(seed)
    forced = _forced(rng)
    for index in range(count):
        page = _page(rng, index)
        families = forced[index] if index < len(forced) else None
        challenge = generate_challenge(
            rng, page, timestamp_ms=1_750_000_000_000 + index * 997, families=families
        )
        yield Case(index, page, challenge)


def run_solver(solver: Any, step: SolveChallenge) -> Any:
    """The value ``solver`` resolves ``step`` to, or ``("ChallengeError", message)``."""
    try:
        result: ChallengeResult = solver.solve(step)
    except ChallengeError as exc:
        return ("ChallengeError", str(exc))
    return result.value


def value_paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by its path (``meta.debug``, ``client_hashes[1]``, ...)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {f"{prefix}{{}}": sorted(value)}
        for key, item in value.items():
            out.update(value_paths(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {f"{prefix}[]": len(value)}
        for i, item in enumerate(value):
            out.update(value_paths(item, f"{prefix}[{i}]"))
        return out
    # type() distinguishes 1 from 1.0 from True, which == would not
    return {prefix: (type(value).__name__, value)}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the V8 model, Chromium and the generator's prediction compare on one case."""

    case: Case
    v8: Any
    chromium: Any

    @property
    def differences(self) -> list[str]:
        """The paths whose values are not identical in all three (empty: full agreement)."""
        expected = value_paths(self.case.challenge.expected)
        sides = [value_paths(self.v8), value_paths(self.chromium), expected]
        keys = sorted(set().union(*sides))
        return [k for k in keys if len({repr(side.get(k, "<absent>")) for side in sides}) > 1]

    def report(self) -> str:
        """A readable account of a disagreement."""
        page, challenge = self.case.page, self.case.challenge
        return (
            f"case {self.case.index} probes={list(challenge.probes)} differ at {self.differences}\n"
            f"  page: {page!r}\n  v8:       {self.v8!r}\n  chromium: {self.chromium!r}\n"
            f"  expected: {challenge.expected!r}"
        )


def compare(case: Case, v8: Any, chromium: Any) -> Outcome:
    """Solve ``case`` with both solvers."""
    step = case.step
    return Outcome(case, run_solver(v8, step), run_solver(chromium, step))
