"""Secrets Manager's rotation of the cursor signing secret."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reviewpulse.messages import Lenient


class SecretRotationStep(Lenient):
    """One step of a secret's rotation, as Secrets Manager invokes the rotation function with it."""

    step: Literal["createSecret", "setSecret", "testSecret", "finishSecret"] = Field(alias="Step")
    secret_id: str = Field(alias="SecretId")
    token: str = Field(alias="ClientRequestToken")
