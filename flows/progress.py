"""Progress reporting for long steps: rich bars in the CLI, log lines under Prefect.

Tasks draw on :func:`current`; the CLI installs a :class:`ProgressSink` that draws bars. Without
one (a scheduled run), nothing is drawn and the tasks' own log lines tell the story.
"""

from __future__ import annotations

from typing import Protocol

from rich.progress import Progress, TaskID


class ProgressSink(Protocol):
    """Receives progress of named steps."""

    def start(self, key: str, description: str, total: float | None) -> None:
        """A step began; ``total`` is its size in any unit, or None when unknown."""

    def advance(self, key: str, amount: float) -> None:
        """The step moved on by ``amount``."""

    def finish(self, key: str, description: str | None = None) -> None:
        """The step is done (optionally with a final description)."""


class _Silent:
    def start(self, key: str, description: str, total: float | None) -> None:
        pass

    def advance(self, key: str, amount: float) -> None:
        pass

    def finish(self, key: str, description: str | None = None) -> None:
        pass


_sink: ProgressSink = _Silent()


def install(sink: ProgressSink | None) -> None:
    """Route progress to ``sink`` (None restores silence)."""
    global _sink
    _sink = sink or _Silent()


def current() -> ProgressSink:
    """Return the installed sink."""
    return _sink


class RichProgress:
    """Draws one progress line per step with rich."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def start(self, key: str, description: str, total: float | None) -> None:
        """Add a line for a step."""
        self.tasks[key] = self.bar.add_task(description, total=total)

    def advance(self, key: str, amount: float) -> None:
        """Move a step's line on."""
        if key in self.tasks:
            self.bar.advance(self.tasks[key], amount)

    def finish(self, key: str, description: str | None = None) -> None:
        """Mark a step's line done."""
        if key in self.tasks:
            task = self.bar.tasks[self.tasks[key]]
            self.bar.update(
                self.tasks[key],
                total=task.completed or 1,
                completed=task.completed or 1,
                description=description or task.description,
            )
