"""Feedback sources: the source-type contract (base), the built-in types, the dlt resource.

Importing this package registers the built-in source types.
"""

from flows.sources import files

__all__ = ["files"]
