"""Tasks: the unit of work a client creates and follows, and where they are stored."""

from reviewpulse.tasks.model import Progress, Task, TaskError, TaskStatus, TaskType, new_task_id

__all__ = ["Progress", "Task", "TaskError", "TaskStatus", "TaskType", "new_task_id"]
