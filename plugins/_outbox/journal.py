"""The sent journal: a small local file that remembers which outbox messages went out until the database says so.

A message is sent, then written here (one line, flushed to disk), then marked sent in the database. When the
marking fails because the database is away, the line stays; the dispatcher replays the journal into the database
before it claims anything again, so a database outage causes no message to go out twice. Several processes may
share one journal (one data_dir): every line is a fact about a message whoever reads it, appends and rewrites
take an exclusive lock on the file, and a line is only taken out once the database has recorded it.

Line format: `<message id> <attempt> <unix time of the send>`. A line cut short by a crash is ignored.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

FILE_NAME = "outbox-sent.journal"


@dataclass(frozen=True)
class SentEntry:
    message_id: int
    attempt: int
    """The row's attempt count when it was sent: replay only marks a row still in that attempt."""
    sent_at: float = field(compare=False)
    """Written to the millisecond; an entry is the same whatever its time."""

    def line(self) -> str:
        return f"{self.message_id} {self.attempt} {self.sent_at:.3f}\n"

    @classmethod
    def parse(cls, line: str) -> SentEntry | None:
        parts = line.split()
        if len(parts) != 3 or not line.endswith("\n"):
            return None
        try:
            return cls(int(parts[0]), int(parts[1]), float(parts[2]))
        except ValueError:
            return None


class SentJournal:
    """The journal file in a data folder. Blocking file calls: the dispatcher runs them off the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_folder(cls, data_dir: Path) -> SentJournal:
        return cls(Path(data_dir) / FILE_NAME)

    def record(self, entries: Iterable[SentEntry]) -> None:
        """Append these sends and wait until they are on disk."""
        text = "".join(entry.line() for entry in entries)
        if not text:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.write(descriptor, text.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)  # closing releases the lock

    def entries(self) -> list[SentEntry]:
        """What the journal holds (nothing when there is no file yet)."""
        try:
            if self.path.stat().st_size == 0:
                return []
            text = self.path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return [entry for line in text.splitlines(keepends=True) if (entry := SentEntry.parse(line)) is not None]

    def forget(self, entries: Iterable[SentEntry]) -> None:
        """Take out these entries (the database has recorded them); what others appended meanwhile stays."""
        done = set(entries)
        if not done:
            return
        try:
            descriptor = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            with os.fdopen(os.dup(descriptor), "r+", encoding="utf-8", errors="replace") as file:
                lines = file.readlines()
                # lines cut short by a crash go too
                kept = [line for line in lines if (entry := SentEntry.parse(line)) is not None and entry not in done]
                if len(kept) == len(lines):
                    return
                file.seek(0)
                file.truncate()
                file.writelines(kept)
                file.flush()
                os.fsync(file.fileno())
        finally:
            os.close(descriptor)

    def forget_messages(self, message_ids: Iterable[int]) -> None:
        """Take out every line of these messages, whatever its attempt (messages deleted from the outbox: an
        erased member's, /删除我的信息)."""
        wanted = set(message_ids)
        self.forget(entry for entry in self.entries() if entry.message_id in wanted)
