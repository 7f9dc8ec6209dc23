"""The `reviewpulse` command (main.py), the HTTP API client it drives and API key administration:
the product's command-line client, installed by users. It never imports the developer tools
(tools/reviewpulse_tools: the local stack, benchmarks, test doubles); their commands (`dev`,
`invoke`) join it through the `reviewpulse.commands` entry points when those are installed.
`python -m reviewpulse_cli` runs the command too."""
