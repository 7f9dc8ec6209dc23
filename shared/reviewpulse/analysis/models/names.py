"""What a model id or version may be (a leaf of literals: options and schemas import it cheaply).

A letter or digit, then letters, digits, `_` or `-`, at most 64 characters: each is one segment
of an object key (storage/layout.py), so no `/` and no dots.
"""

from __future__ import annotations

import re

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)


def is_valid_name(value: str) -> bool:
    return bool(_NAME.match(value))
