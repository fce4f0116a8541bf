"""How a CSV's bytes are decoded: its encoding, judged on a sample from its start."""

from __future__ import annotations

import io
from typing import IO, Any

# A CSV's encoding is judged on this many bytes from its start.
ENCODING_SAMPLE_BYTES = 1 << 20


def csv_encoding(head: bytes) -> str:
    """UTF-8 (a BOM skipped), unless ``head`` is no UTF-8 and has no UTF-8 character in it.

    One stray byte in a UTF-8 file keeps it UTF-8 (the byte is replaced and flagged); a file
    whose every non-ASCII byte is invalid UTF-8 is Windows-1252, Excel's "CSV" on Western
    Windows, where "José" and "Müller" would otherwise lose their letters, and two ids that
    differ in one (Müller-1, Mäller-1) would collide.
    """
    sample = head[: len(head) - 3] if len(head) == ENCODING_SAMPLE_BYTES else head  # a cut char
    decoded = sample.decode("utf-8", errors="replace")
    if "\ufffd" not in decoded or any(ch > "\x7f" and ch != "\ufffd" for ch in decoded):
        return "utf-8-sig"
    return "cp1252"


class Prefixed(io.RawIOBase):
    """A binary stream read as ``head`` followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head, self._stream = head, stream

    def readable(self) -> bool:
        """Always: it is read from."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the head while it lasts, then from the stream."""
        data = self._head[: len(buffer)] if self._head else self._stream.read(len(buffer))
        self._head = self._head[len(data) :]
        buffer[: len(data)] = data
        return len(data)
