"""JSON values as rows and cells, shared by the JSON, JSONL and conversation readers."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal

from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.readers.rows import (
    ReadState,
    Row,
    clean,
    error_row,
    find_id_name,
    find_text_name,
    parse_row_id,
    text_row,
)

# Deeper items are rows in error: no review export nests this deep, and rendering one as a column
# (json.dumps) recurses once per level.
MAX_NESTING = 100
# Decimal integers with more digits are rendered as errors: int() would build a number as long as
# its exponent, and json.dumps refuses ints longer than sys.get_int_max_str_digits() anyway.
_MAX_INTEGER_DIGITS = 4000


class _TooDeep:
    """Stands for a JSON value nested deeper than MAX_NESTING in an item, which is skipped, not
    built; rendering it fails like a value nested past Python's recursion limit."""

    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP = _TooDeep()
_UNRENDERABLE_DETAIL = (
    f"a value cannot be rendered as a column: it is nested more than {MAX_NESTING} levels deep"
    " or holds a number too large"
)


def item_row(number: int, item: object, spec: FileSpec, state: ReadState, invalid: re.Pattern[str]) -> Row:
    """A Row from one JSON array item or JSONL line: a string or an object."""
    if isinstance(item, str):
        state.add_columns(["text"])
        return text_row(number, str(number), item, {"text": clean(item, invalid)}, spec, invalid)
    if not isinstance(item, dict):
        detail = f"item is {json_type(item)}; expected an object or a string"
        return error_row(number, str(number), "invalid-row", detail, {})
    try:
        columns = {clean(str(key), invalid): clean(render_value(value), invalid) for key, value in item.items()}
        unrenderable = False
    except (RecursionError, ValueError):  # see render_value; the messages quote no content, but are not needed
        columns = dict.fromkeys((clean(str(key), invalid) for key in item), "")
        unrenderable = True
    state.add_columns(columns)
    if state.object_key is None:
        keys = list(item)
        index = find_text_name(keys, spec.text_field, single_fallback=False, where="the first object")
        state.object_key = keys[index]
        state.text_field = clean(state.object_key, invalid)
        # Like the text key, the id key is fixed by the first object: a first object without it
        # makes the file unusable (a misspelt id_field), while a later object without it (or with
        # null) falls back to its row number, as objects need not all share the same keys.
        if spec.id_field:
            state.id_key = keys[find_id_name(keys, spec.id_field, where="the first object")]
    if unrenderable:
        return error_row(number, str(number), "invalid-row", _UNRENDERABLE_DETAIL, columns)
    key = state.object_key
    id_value = item.get(state.id_key) if state.id_key is not None else None
    if isinstance(id_value, (dict, list)):
        detail = f"the id is {json_type(id_value)}; ids must be strings or numbers"
        return error_row(number, str(number), "invalid-row", detail, columns)
    row_id, id_error = parse_row_id(number, None if id_value is None else clean(render_value(id_value), invalid))
    if id_error is not None:
        return Row(number, row_id, None, id_error, columns)
    value = item.get(key)
    if not isinstance(value, str):
        shown = clean(key, invalid)
        if key not in item:
            detail = f"object has no {shown!r} key"
        else:
            detail = f"{shown!r} is {json_type(value)}, not a string"
        return error_row(number, row_id, "invalid-row", detail, columns)
    return text_row(number, row_id, value, columns, spec, invalid)


def render_value(value: object) -> str:
    """A JSON value as a CSV cell: scalars as written, nested values as compact JSON.

    Raises RecursionError for a value nested past Python's recursion limit and ValueError for a
    number that cannot be written out; callers make that row an error.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return str(value)  # int or Decimal: str(Decimal) keeps the digits as written


def _json_default(value: object) -> int | float:
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.adjusted() < _MAX_INTEGER_DIGITS:
            return int(value)
        number = float(value)
        if not math.isfinite(number):  # 1e999999 as a float is inf, which is not JSON
            raise ValueError("a number outside the range of a float")
        return number
    if value is TOO_DEEP:
        raise ValueError("a value nested too deeply")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"
