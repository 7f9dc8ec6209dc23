"""Developer tools for ReviewPulse, never shipped to Lambda, in four parts (the `reviewpulse` command
itself is the product's, in cli/reviewpulse_cli, and never imports these):

    dev/      developer commands: `reviewpulse dev` and `invoke` (entry points), `make demo`, `make openapi`
    local/    the local stack: AWS on one machine, one module per emulated service
    bench/    benchmarks and quality reports: `make bench`, `make chaos`, `make quality`, `make calibrate`
    doubles/  test doubles: the fake OpenAI-compatible server

Allowed dependencies (.importlinter): dev and bench may use local; all may use doubles; local
uses neither dev nor bench; doubles use none of the others.
"""
