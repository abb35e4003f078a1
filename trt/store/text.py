"""Making text storable: what a column cannot hold is replaced or cut, never a failed write.

Postgres refuses NUL in text and JSON, and no UTF-8 column holds a lone surrogate (which a
JSON body may carry as an escape); a VARCHAR refuses what is longer than it is.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` with NULs and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def fit(text: str | None, length: int) -> str | None:
    """`text` made storable and cut to a column of `length` characters."""
    return None if text is None else clean(text)[:length]


def storable(value: Any) -> Any:
    """A JSON value with every string (keys included) made storable."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
