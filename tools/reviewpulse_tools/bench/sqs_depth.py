"""What a queue's depth costs moto's SQS, as it comes and with the local stack's counting
(local/sqs_depth.py): CPU per SendMessageBatch of 10, ReceiveMessage of one and
GetQueueAttributes, with a given number of messages waiting, in moto's in-process mock (the
client's share included, under a millisecond).

    .venv/bin/python -m reviewpulse_tools.bench.sqs_depth            # 0, 1,000 and 3,000 waiting
    .venv/bin/python -m reviewpulse_tools.bench.sqs_depth --depths 0 500
"""

from __future__ import annotations

import argparse
import time

import boto3
from moto import mock_aws

from reviewpulse_tools.local import sqs_depth

CALLS = 20


def measure(depth: int, local: bool) -> dict[str, float]:
    """CPU ms per call of each action on a queue holding `depth` waiting messages."""
    (sqs_depth.install if local else sqs_depth.uninstall)()
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName="work")["QueueUrl"]
            body = '{"tenant":"local","task_id":"%d"}'
            for start in range(0, depth, 10):
                entries = [{"Id": str(i), "MessageBody": body % (start + i)} for i in range(min(10, depth - start))]
                sqs.send_message_batch(QueueUrl=url, Entries=entries)
            calls = {
                "SendMessageBatch": lambda: sqs.send_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)]
                ),
                "ReceiveMessage": lambda: sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
                ),
                "GetQueueAttributes": lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
            }
            costs = {}
            for action, call in calls.items():
                began = time.process_time()
                for _ in range(CALLS):
                    call()
                costs[action] = (time.process_time() - began) / CALLS * 1000
            return costs
    finally:
        sqs_depth.uninstall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 1000, 3000])
    args = parser.parse_args(argv)
    actions = ("SendMessageBatch", "ReceiveMessage", "GetQueueAttributes")
    print(f"{'waiting':>8} {'SQS':<6} " + " ".join(f"{a + ' ms':>21}" for a in actions))
    for depth in args.depths:
        for local in (False, True):
            costs = measure(depth, local)
            name = "local" if local else "moto"
            print(f"{depth:>8} {name:<6} " + " ".join(f"{costs[a]:>21.1f}" for a in actions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
