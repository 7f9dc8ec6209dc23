"""The LLM boundary (OpenAI SDK): request_engine (LlmEngine), prompt, batching, the Batch API, pacing,
pricing and the spend gate. Imported when a task or a request uses the LLM (the analyze_chunk,
analyze_texts, finalize and collect_batches functions), lazily."""
