"""The HTTP API: one FastAPI router per endpoint, each deployed as its own Lambda function."""
