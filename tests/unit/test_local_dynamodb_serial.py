"""The local stack's AWS process hands moto DynamoDB's requests one at a time (moto's item writes
are not atomic: local/dynamodb_serial.py), and every other request as it comes."""

from __future__ import annotations

import threading

from reviewpulse_tools.local.dynamodb_serial import OneDynamoDBRequestAtATime


class Recorder:
    """A WSGI app that notes how many requests are inside it at once; a request waits a while for
    a second one to come in beside it, so any two that can overlap do."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self._count = threading.Lock()
        self._two = threading.Event()

    def __call__(self, environ, start_response):
        with self._count:
            self.inside += 1
            self.most = max(self.most, self.inside)
            if self.inside > 1:
                self._two.set()
        self._two.wait(timeout=0.5)
        with self._count:
            self.inside -= 1
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"Item":', b" {}}"]


def call_at_once(app, targets: list[str]) -> list[bytes]:
    answers: list[bytes] = [b""] * len(targets)

    def one(i: int, target: str) -> None:
        answers[i] = b"".join(app({"HTTP_X_AMZ_TARGET": target}, lambda status, headers: None))

    threads = [threading.Thread(target=one, args=(i, target)) for i, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_dynamodb_requests_never_overlap_and_answer_whole():
    # Given moto behind the middleware
    moto = Recorder()
    app = OneDynamoDBRequestAtATime(moto)
    # When four UpdateItem and GetItem requests and a stream read come in at once
    targets = ["DynamoDB_20120810.UpdateItem"] * 2 + [
        "DynamoDB_20120810.GetItem",
        "DynamoDBStreams_20120810.GetRecords",
    ]
    answers = call_at_once(app, targets)
    # Then moto had one inside at a time, and each got its whole answer
    assert moto.most == 1
    assert answers == [b'{"Item": {}}'] * len(targets)


def test_other_services_requests_are_not_held():
    # Given the same middleware; When two SQS requests come in at once
    moto = Recorder()
    call_at_once(OneDynamoDBRequestAtATime(moto), ["AmazonSQS.ReceiveMessage", "AmazonSQS.SendMessage"])
    # Then both were inside moto together
    assert moto.most == 2
