"""The analysis engines behind one interface (base.Engine), and the registry that names them.

- names: the engine names a task may ask for (light: settings and schemas import it)
- registry: the one place that maps a name to its engine; nothing else compares engine names
- lexicon, llm, auto: one module per engine
- wrappers: the result cache and the fallback policy, wrapped around what answers for the LLM

Nothing is imported here, so that importing `names` stays free of the engines' dependencies.
"""
