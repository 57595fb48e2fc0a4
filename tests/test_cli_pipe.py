"""The command ends quietly when the reader of its output goes away (``… | head``)."""

from __future__ import annotations

import subprocess
import sys

from fixtures_emulator import EmulatorHandle


def test_a_closed_stdout_ends_the_command_quietly(emulator: EmulatorHandle) -> None:
    # A reply that is still streaming (200 tokens, 20 ms apart) when the pipe closes.
    emulator.control.configure(reply_tokens=200, delay=0.02)
    command = [
        sys.executable,
        "-m",
        "sansio_chat.adapters.cli",
        "ask",
        "Hello",
        "--json",
        "--base-url",
        emulator.base_url,
        "--min-interval",
        "0",
    ]
    # `head -c 1`: read one byte, then close the pipe while the reply is still streaming.
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read(1) == b"{"
        process.stdout.close()
        stderr = process.stderr.read()
        status = process.wait(timeout=30)
    assert b"Traceback" not in stderr, stderr.decode()
    assert stderr == b""
    assert status == 141
