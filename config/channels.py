"""The feedback channels, declared once: every layer that lists channels loops over :data:`CHANNELS`.

A channel is the kind of conversation a comment comes from. It sets defaults that differ by
channel (which normalisation rules are off, whether the report always gives it a column);
a source names its channel (``sources[].channel``), and the settings accept only the names
here. The warehouse stores the name as text: validation happens when the settings are read
(and, for a source type whose records carry their own channel, when each record is read, a
bad one quarantined with its reason).

Adding a channel is one entry below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal


@dataclass(frozen=True)
class ChannelSpec:
    """One channel and its defaults.

    Attributes:
        name: The name sources and the warehouse use.
        description: What comes from it, for help texts.
        normalise_off: Normalisation rules (nlp/normalize.py) that are off by default for its
            sources; every other rule is on.
        report_column: Whether the report's CSV always has a ``channel_NAME`` column (other
            channels get one only when the report holds their comments).
        colour: Its colour in the report's channel mix (a spare colour, by its place here,
            when ``None``).
    """

    name: str
    description: str
    normalise_off: frozenset[str] = field(default_factory=frozenset)
    report_column: bool = True
    colour: str | None = None


_DECLARED = (
    # Reviews and survey answers are not e-mail threads: a line starting with ">" there is the
    # customer's own.
    ChannelSpec("review", "app or store reviews", frozenset({"quoted_replies"}), colour="#4e79a7"),
    ChannelSpec("ticket", "support tickets and their customer replies", colour="#f28e2b"),
    ChannelSpec(
        "survey", "survey verbatims (NPS, CSAT)", frozenset({"quoted_replies"}), colour="#59a14f"
    ),
    ChannelSpec(
        "social",
        "posts and tweets (handles, hashtags and links are cleaned out by default)",
        frozenset({"quoted_replies"}),
        report_column=False,
        colour="#b07aa1",
    ),
)

CHANNELS: MappingProxyType[str, ChannelSpec] = MappingProxyType({c.name: c for c in _DECLARED})
CHANNEL_NAMES: tuple[str, ...] = tuple(CHANNELS)
Channel = Literal[CHANNEL_NAMES]  # type: ignore[valid-type]  # Literal["review", "ticket", ...]


def channel_names() -> str:
    """The channel names as a reader-friendly list: ``review, ticket, survey or social``."""
    *head, last = CHANNEL_NAMES
    return f"{', '.join(head)} or {last}"


def normalise_defaults(channel: str) -> dict[str, bool]:
    """The normalisation rules that are off by default for ``channel`` (rule -> False)."""
    return dict.fromkeys(sorted(CHANNELS[channel].normalise_off), False)
