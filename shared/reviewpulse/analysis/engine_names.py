"""The engines a task may name. Adding an engine adds its name here and its class to the registry."""

from __future__ import annotations

from typing import Literal, get_args

EngineName = Literal["lexicon", "llm", "auto"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)
