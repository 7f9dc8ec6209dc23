"""What the system does, one module per use case: create a task or a batch, read, cancel or purge
one, split a file, analyse a chunk, finalize a task, sweep stalled ones, settle dead letters.

Routes and handlers call into this package and nothing below it decides a flow. Use cases get their
collaborators (repositories, files, queues, engines, settings) as parameters, so handlers wire the
real AWS clients and tests can pass their own.
"""
