"""Developer tools for ReviewPulse: the CLI, the local stack and benchmarks. Never shipped to Lambda."""
