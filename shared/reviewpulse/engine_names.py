"""The engines a task may name. Adding an engine adds its name here and its class to the registry
(analysis/engines/registry.py). A leaf of plain literals at the bottom of the layers, so that the
settings (DEFAULT_ENGINE), the API's schemas and the analysis options all read the one list."""

from __future__ import annotations

from typing import Literal, get_args

EngineName = Literal["lexicon", "llm", "auto"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)
