"""The `reviewpulse` command (main.py), the HTTP API client it drives, API key administration,
`make demo` and `make openapi`. `python -m reviewpulse_tools.cli` runs the command too."""
