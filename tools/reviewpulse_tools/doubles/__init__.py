"""Test doubles for what the local stack cannot run for real: the OpenAI-compatible server
(fake_openai.py; `python -m reviewpulse_tools.doubles.fake_openai` serves it alone)."""
