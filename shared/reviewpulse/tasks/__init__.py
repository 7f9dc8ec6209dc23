"""Tasks: the unit of work a client creates and follows (model and status rules), and its
DynamoDB repository."""
