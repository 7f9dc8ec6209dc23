"""Benchmarks and quality reports; figures, not tests (the tests prove behaviour).

performance.py  `make bench`: the runner and its report (quick mode too)
cold_start.py   `make bench` (coldstart): every function with a sample event, cold
pipeline.py     `make bench` (pipeline): calls per review, end-to-end time
lexicon_speed.py  `make bench` (lexicon): characters per CPU second
llm.py          `make bench` (llm): the LLM engine against the fake OpenAI-compatible server
samples.py      the sample reviews the benchmarks and chaos draw their batches from
chaos.py        `make chaos`: the pipeline under duplicates, crashes, flaky and poison rows
quality.py      `make quality`: engines against labelled sentences
calibrate.py    `make calibrate`: fits the lexicon's confidence calibration
labelled_data.py  readers for the labelled sentence sets
"""
