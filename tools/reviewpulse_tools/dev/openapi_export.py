"""Print the API's OpenAPI document (`make openapi` writes it to openapi.json)."""

import json

from reviewpulse.api.openapi import openapi_document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
