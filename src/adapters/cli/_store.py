"""Where conversations and the chat history are kept: the user's data directory.

``$SANSIO_CHAT_DATA_DIR`` when set, else the platform's data directory for ``sansio-chat``
(platformdirs: ``$XDG_DATA_HOME/sansio-chat`` or ``~/.local/share/sansio-chat`` on Linux,
``~/Library/Application Support/sansio-chat`` on macOS, ``%LOCALAPPDATA%\\sansio-chat`` on
Windows). Conversations are ``conversations/ID.json``; the line editor's history is
``history``.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ConversationInfo",
    "check_writable",
    "conversations_dir",
    "data_dir",
    "history_path",
    "latest",
    "listing",
    "new_path",
    "resolve",
]


def data_dir() -> Path:
    """The directory of sansio-chat's own files (not created here)."""
    override = os.environ.get("SANSIO_CHAT_DATA_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("sansio-chat", appauthor=False))


def conversations_dir() -> Path:
    """Where saved conversations go."""
    return data_dir() / "conversations"


def history_path() -> Path:
    """The line editor's history file of ``sansio-chat chat``."""
    return data_dir() / "history"


def new_path() -> Path:
    """A fresh conversation file: ``YYYYMMDD-HHMMSS-XXXX.json`` (sorts by date)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return conversations_dir() / f"{stamp}-{secrets.token_hex(2)}.json"


def _saved() -> list[Path]:
    folder = conversations_dir()
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.glob("*.json") if p.is_file()),
        key=lambda p: (p.stat().st_mtime, p.name),
    )


def latest() -> Path | None:
    """The most recently written conversation, if any."""
    saved = _saved()
    return saved[-1] if saved else None


def resolve(reference: str) -> Path:
    """``--conversation ID|FILE``: a saved id (or a unique prefix of one), else a file path.

    A prefix of several saved ids raises ``ValueError`` naming them: taking it for a new
    file's name would start a conversation the user did not ask for.
    """
    looks_like_path = os.sep in reference or reference.endswith(".json")
    if not looks_like_path:
        saved = _saved()
        matches = [p for p in saved if p.stem == reference] or [
            p for p in saved if p.stem.startswith(reference)
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(sorted(p.stem for p in matches)[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise ValueError(
                f"{reference!r} is the start of {len(matches)} saved conversations' ids "
                f"({ids}{more}); give more of the id"
            )
    return Path(reference).expanduser()


def check_writable(path: Path) -> str | None:
    """Why ``path`` cannot be saved to (``None`` when it can); nothing is left behind."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            return "it is a directory"
        if path.exists() and not os.access(path, os.W_OK):
            return "permission denied"
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        return error.strerror or str(error)
    return None


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """One line of ``sansio-chat conversations``."""

    id: str
    path: Path
    date: str
    provider: str
    model: str
    turns: int
    first_words: str


def _first_words(text: str, limit: int = 48) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def listing() -> list[ConversationInfo]:
    """Saved conversations, newest first (files that do not parse are listed as such)."""
    entries = []
    for path in reversed(_saved()):
        date = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            messages = [m for m in data.get("messages", []) if isinstance(m, dict)]
            users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
            entry = ConversationInfo(
                id=path.stem,
                path=path,
                date=date,
                provider=str(data.get("provider", "?")),
                model=str(data.get("model", "?")),
                turns=len(users),
                first_words=_first_words(users[0]) if users else "",
            )
        except (OSError, ValueError, AttributeError):
            entry = ConversationInfo(path.stem, path, date, "?", "?", 0, "(unreadable)")
        entries.append(entry)
    return entries
