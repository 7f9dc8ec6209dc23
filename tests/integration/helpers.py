"""What the integration tests share: sample texts, a batch upload through the API's presigned POST,
and reading a task's results back page by page."""

from __future__ import annotations

import csv
import io

import requests
from reviewpulse.analysis.sentiment import Sentiment
from reviewpulse.usecases.analyze_chunk import AnalysisUnavailable

POSITIVE = ["I love it, works great", "Excellent quality and fast delivery", "Best purchase this year, very happy"]
NEGATIVE = ["Terrible, it broke after a day", "Awful support and a horrible smell", "Worst product ever, I hate it"]


def upload(client, filename: str, content: bytes, **options) -> str:
    created = client.call("POST", "/v1/batches", {"filename": filename, **options})
    assert created.status == 201, created.body
    post = created.json()["upload"]
    response = requests.post(post["url"], data=post["fields"], files={"file": (filename, content)})
    assert response.status_code in (200, 201, 204), response.text
    return created.json()["task"]["task_id"]


def results_of(client, task_id: str, limit: int = 1000) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = client.call("GET", f"/v1/tasks/{task_id}/results", query=query).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def stored_csv(s3, bucket: str, task_id: str, tenant: str = "acme") -> list[dict]:
    body = s3.get_object(Bucket=bucket, Key=f"results/{tenant}/{task_id}/results.csv")["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


class Unavailable:
    engine = "lexicon"

    def analyze(self, texts: list[str]) -> list[Sentiment]:
        raise AnalysisUnavailable("engine down")
