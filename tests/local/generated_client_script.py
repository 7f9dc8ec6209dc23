"""Run by tests/local/test_generated_client.py with the interpreter of .venv-openapi, where the
client generated from openapi.json is installed: a text task, a batch upload and the results
pages, through that client only (the presigned upload is S3's, not the API's: plain httpx).
Prints one JSON line of what it saw."""

import json
import sys
import time

import httpx
from reviewpulse_client import AuthenticatedClient
from reviewpulse_client.api.batches import create_batch
from reviewpulse_client.api.results import get_results
from reviewpulse_client.api.tasks import create_task, get_task, list_tasks
from reviewpulse_client.models import CreateBatchRequest, CreateTaskRequest, Problem

base_url, api_key, csv_path = sys.argv[1:4]
# As the README says: the key goes in X-Api-Key, with no "Bearer " prefix.
client = AuthenticatedClient(base_url=base_url, token=api_key, prefix="", auth_header_name="X-Api-Key", timeout=30)


def wait(task_id):
    for _ in range(600):
        task = get_task.sync(task_id, client=client)
        if task.status.value in ("ready", "error", "cancelled"):
            return task
        time.sleep(0.2)
    raise SystemExit(f"task {task_id} did not end")


text_task = create_task.sync(client=client, body=CreateTaskRequest(text="Absolutely love it, works perfectly"))
text_done = wait(text_task.task_id)
(text_item,) = get_results.sync(text_task.task_id, client=client).items

batch = create_batch.sync(client=client, body=CreateBatchRequest(filename="few.csv", id_field="id"))
with open(csv_path, "rb") as content:
    uploaded = httpx.post(batch.upload.url, data=batch.upload.fields.to_dict(), files={"file": ("few.csv", content)})
batch_done = wait(batch.task.task_id)
pages, ids, cursor = 0, [], None
while True:
    page = get_results.sync(batch.task.task_id, client=client, limit=2, **({"cursor": cursor} if cursor else {}))
    pages += 1
    ids += [item.id for item in page.items]
    cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
    if not cursor:
        break

refused = get_task.sync("0" * 28, client=client)
listed = list_tasks.sync(client=client, limit=200)
print(
    json.dumps(
        {
            "text": {"status": text_done.status.value, "label": text_item.label.value},
            "upload_status": uploaded.status_code,
            "batch": {"status": batch_done.status.value, "total": batch_done.progress.total},
            "pages": pages,
            "ids": ids,
            "missing_task": {"problem": isinstance(refused, Problem), "code": getattr(refused, "code", None)},
            "listed": [task.task_id for task in listed.items],
        }
    )
)
