"""A registry of named extension pieces, in registration order.

Each extension point (ranking factors in :mod:`nlp.factors`, report columns in
:mod:`flows.report.columns`) declares its pieces once, in one :class:`Registry`, and every
layer loops over it. A piece is any object with a ``name``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    """Anything with a ``name``: what a registry holds."""

    @property
    def name(self) -> str:
        """The piece's unique name, used in config and storage."""
        ...


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Named pieces of one kind, iterated in registration order.

    Args:
        kind: What the pieces are, for error messages (e.g. ``"ranking factor"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, item: T, *, replace: bool = False) -> T:
        """Add ``item`` (last in order); return it, so this works as a decorator's body.

        Raises:
            ValueError: If its name is taken and ``replace`` is false.
        """
        if item.name in self._items and not replace:
            raise ValueError(f"{self.kind} {item.name!r} is already registered")
        self._items[item.name] = item
        return item

    def unregister(self, name: str) -> T:
        """Remove the piece called ``name`` and return it.

        Raises:
            KeyError: If there is none.
        """
        return self._items.pop(self._check(name))

    def names(self) -> tuple[str, ...]:
        """The registered names, in order."""
        return tuple(self._items)

    def __getitem__(self, name: str) -> T:
        return self._items[self._check(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def _check(self, name: str) -> str:
        if name not in self._items:
            known = ", ".join(self._items) or "none"
            raise KeyError(f"unknown {self.kind} {name!r}; registered: {known}")
        return name
