"""Sentiment analysis.

- sentiment: what every analyzer promises, and the shapes of what it finds
- engines/: the engines a task names (lexicon, llm, auto, a tenant's model) behind one registry
  (their names are reviewpulse.engine_names)
- llm/: the LLM boundary: client, prompt, batching, Batch API, pacing, pricing, the spend gate
- models/: a tenant's own models: features, training, the stored artifact, scoring
- lexicon_analyzer, vader_linear, calibration: VADER, linear in a text's length, and its calibrated confidence
- aspects, normalise, language, routing, labels, cache, options: aspects and themes, social text read
  as text, language identification, which items go to the LLM, customers' label columns, the LLM
  result cache, what a task asks of the analysis

The engines are imported from their own modules, so that code which only needs the result types
does not load an engine's lexicon or SDK.
"""
