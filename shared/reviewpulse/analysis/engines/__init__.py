"""The analysis engines behind one interface (base.Engine), and the registry that names them.

- base: what every engine promises (a chunk answered item by item within a deadline)
- registry: the one place that maps a name (reviewpulse.engine_names, a leaf the settings and the
  API's schemas import too) to its engine; nothing else compares engine names
- lexicon, llm, auto, model: one module per engine (each around an analyzer: ../lexicon_analyzer,
  ../llm/request_engine, ../models) (model: a tenant's model in place of the lexicon)
- labels: what an answer's engine says about it, for code outside the engines
- wrappers: the result cache and the fallback policy, wrapped around what answers for the LLM

Nothing is imported here, so that importing one engine does not load the others' dependencies.
"""
