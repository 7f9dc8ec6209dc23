"""Tasks: the unit of work a client creates and follows.

- model: the task, its statuses, and the rules of its status moves (Move, TRANSITIONS)
- table: the DynamoDB item's shape and the conditional update every repository below makes
- repository: the task lifecycle (create, read, list, each status move of the model's table)
- spend_ledger: what the LLM was paid for a task and what is reserved for requests in flight
- batch_state: Batch API mode and where a task's provider batches stand
- sweeps: the sweeper's queries (running tasks that stopped moving) and the move that ends one
"""
