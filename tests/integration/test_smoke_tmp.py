import json, requests, boto3
def test_smoke(client, poller, s3, bucket):
    r = client.call("POST", "/v1/tasks", {"text": "I love this phone, the battery is great", "id": "r1"})
    print(r.status, r.body)
    assert r.status == 202
    tid = r.json()["task_id"]
    poller.drain()
    r = client.call("GET", f"/v1/tasks/{tid}"); print(r.body)
    r = client.call("GET", f"/v1/tasks/{tid}/results"); print(r.body)
    csv = "id,review\n" + "".join(f"{i},Review number {i} is {'great' if i%2 else 'awful'}\n" for i in range(1, 1001)) + "x,\n"
    r = client.call("POST", "/v1/batches", {"filename": "reviews.csv"}); print(r.status, r.body[:300])
    up = r.json()["upload"]
    resp = requests.post(up["url"], data=up["fields"], files={"file": ("reviews.csv", csv.encode())})
    print("upload", resp.status_code, resp.text[:200])
    poller.drain()
    tid = r.json()["task"]["task_id"]
    r = client.call("GET", f"/v1/tasks/{tid}"); print(r.body)
    r = client.call("GET", f"/v1/tasks/{tid}/results", query={"limit": "3"}); print(r.body[:1500])
    r = client.call("GET", "/v1/tasks"); print(r.status, r.body[:500])
