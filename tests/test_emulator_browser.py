"""Browser truth: Chromium evaluates the emulator's own challenges; the emulator must agree.

The page does what frontends do with the header: ``eval(atob(header))``.
"""

from __future__ import annotations

import httpx
import pytest

from browser import browser_eval_headers, require_chromium
from fixtures_emulator import SEC_CH_UA, USER_AGENT, EmulatorHandle, solution_header

CHALLENGES = 24


@pytest.mark.browser
def test_the_emulator_accepts_what_chromium_computes(emulator: EmulatorHandle) -> None:
    require_chromium()
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        issued = []
        for _ in range(CHALLENGES):
            reply = client.get("/duckchat/v1/status", headers={"x-vqd-accept": "1"})
            issued.append((reply.headers["x-vqd-4"], reply.headers["x-vqd-hash-1"]))
        results = browser_eval_headers([challenge for _, challenge in issued])
        version = f"serp_20250401_100419_ET-{'ab' * 10}"
        for (vqd, challenge), result in zip(issued, results, strict=True):
            assert "error" not in result, result
            assert result["signals"] == {}
            fingerprint = int(result["client_hashes"][1])
            browser_hashes = {"server_hashes": result["server_hashes"]}
            headers = {
                "user-agent": USER_AGENT,
                "sec-ch-ua": SEC_CH_UA,
                "x-vqd-4": vqd,
                "x-fe-version": version,
            }
            payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
            for wrong in (fingerprint - 1, fingerprint + 1):
                headers["x-vqd-hash-1"] = solution_header(challenge, wrong, extra=browser_hashes)
                refused = client.post("/duckchat/v1/chat", json=payload, headers=headers)
                assert refused.status_code == 418, (wrong, result)
            headers["x-vqd-hash-1"] = solution_header(challenge, fingerprint, extra=browser_hashes)
            accepted = client.post("/duckchat/v1/chat", json=payload, headers=headers)
            assert accepted.status_code == 200, (challenge, result)
