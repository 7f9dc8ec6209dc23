"""The LLM engine (OpenAI SDK). Only the analyze and finalize functions import this package."""
