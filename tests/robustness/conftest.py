"""The robustness suite's tally: every test records what it tried and what it injected; the session ends with
a summary of it (shown by a plain ``python -m pytest -q``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Entry:
    """One line of the summary."""

    area: str
    tried: int = 0
    injected: str = ""
    failures: int = 0
    notes: list[str] = field(default_factory=list)
    summary: bool = False  # a sum of other lines: left out of the total


class Tally:
    """What the suite tried, by area; ``failures`` counts inputs that broke a rule (the tests assert it is 0)."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def add(self, area: str, *, tried: int = 1, injected: str = "", failures: int = 0, note: str = "",
            summary: bool = False) -> None:
        """Add ``tried`` attempts (and ``failures`` of them) to ``area``; a ``summary`` line is not in the total."""
        entry = self.entries.setdefault(area, Entry(area, summary=summary))
        entry.tried += tried
        entry.failures += failures
        if injected and not entry.injected:
            entry.injected = injected
        if note:
            entry.notes.append(note)

    def lines(self) -> list[str]:
        """The summary, one line per area plus a total."""
        out = []
        for e in self.entries.values():
            line = f"{e.area:<34} tried {e.tried:>6}  failures {e.failures}  injected: {e.injected}"
            out.append(line + "".join(f"\n{'':<36}{n}" for n in e.notes))
        total = sum(e.tried for e in self.entries.values() if not e.summary)
        failed = sum(e.failures for e in self.entries.values() if not e.summary)
        out.append(f"{'total':<34} tried {total:>6}  failures {failed}")
        return out


_TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    """The session's tally."""
    return _TALLY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the tally at the end of the session (``-q`` included)."""
    if _TALLY.entries:
        terminalreporter.section("robustness suite (issue 13)")
        for line in _TALLY.lines():
            terminalreporter.write_line(line)
