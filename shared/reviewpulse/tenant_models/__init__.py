"""A tenant's own models: the record of each (what it was trained from, its status, its card),
the tenant's default, and the queue that asks the training function for one. The artifact itself
(weights and hashing parameters) is the learning library's; its key in the bucket is storage's."""
