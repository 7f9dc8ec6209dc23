"""Sentiment analysis: the analyzer protocol (base) and its engines (lexicon).

The engines are imported from their own modules, so that code which only needs the result types
does not load an engine's lexicon or SDK.
"""
