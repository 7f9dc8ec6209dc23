"""Developer commands on top of the CLI and the local stack: `reviewpulse dev` and `reviewpulse invoke`
(local_commands.py, registered through the `reviewpulse.commands` entry points), `make demo`
(demo.py) and `make openapi` (openapi_export.py)."""
