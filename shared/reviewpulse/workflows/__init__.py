"""What the workers do, step by step: split a file, analyse a chunk, finalize a task.

Workflows get their collaborators (repository, store, queue, analyzer) as parameters, so the
handlers wire real AWS clients and tests can pass their own.
"""
