"""The `fields` query parameter: a page's items with only the fields a client names."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel, create_model

from reviewpulse.errors import InvalidFields


def fields_query(model: type[BaseModel]) -> object:
    allowed = ", ".join(model.model_fields)
    return Query(
        default=None,
        description=(
            f"Comma-separated fields each item keeps: {allowed}. The others are left out, "
            "also those the item schema lists as required; an unknown name is 400 invalid-fields"
        ),
        examples=["id,label,score"] if "label" in model.model_fields else ["task_id,status"],
    )


def selected_fields(raw: str | None, model: type[BaseModel]) -> frozenset[str] | None:
    """The fields named in `raw` (None: all of them). Any name that is not one of the model's
    documented fields, or an empty one, is 400 invalid-fields listing the allowed names; the
    names sent are not echoed back."""
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",")]
    allowed = list(model.model_fields)
    if not names or not all(names) or set(names) - set(allowed):
        raise InvalidFields(f"fields takes a comma-separated list of: {', '.join(allowed)}")
    return frozenset(names)


def selection_of(model: type[BaseModel]) -> type[BaseModel]:
    """The documented shape of an item answered with `fields`: the model's fields, each optional
    (only the named ones are there, also those the full item always has)."""
    optional: dict[str, Any] = {name: (field.annotation | None, None) for name, field in model.model_fields.items()}
    return create_model(
        f"{model.__name__}Selection", __doc__=f"A {model.__name__} with only the fields named in `fields`", **optional
    )
