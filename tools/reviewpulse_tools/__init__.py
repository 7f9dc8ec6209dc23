"""Developer tools for ReviewPulse, never shipped to Lambda, in four parts:

    cli/      the `reviewpulse` command, its HTTP API client and key administration, the demo
    local/    the local stack: AWS on one machine, one module per emulated service
    bench/    benchmarks and quality reports: `make bench`, `make chaos`, `make quality`, `make calibrate`
    doubles/  test doubles: the fake OpenAI-compatible server

Allowed dependencies (.importlinter): cli and bench may use local; all may use doubles; local
uses neither cli nor bench; doubles use none of the others.
"""
