"""`reviewpulse models train|list|show|delete|default`: the tenant's own models over the API.

`train FILE --label-field F` uploads FILE as a batch (analysed like any other), waits for it,
then trains a model from its labels and waits for the model; `train --task TASK_ID` trains from a
ready batch already there. The model's id alone goes to standard output. Like every command
module, it imports what it uses (the HTTP client, the analyze command's helpers) only when it runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from reviewpulse_cli.connect import add_api_options, open_client
from reviewpulse_cli.errors import ApiError, UsageError


def register(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="your own models, trained from your labelled rows")
    actions = models.add_subparsers(dest="action", required=True)
    train = add_api_options(
        actions.add_parser("train", help="train a model from a labelled file or a ready batch; prints its id")
    )
    train.add_argument("file", nargs="?", type=Path, help="a labelled file to upload as a batch first")
    train.add_argument("--task", dest="task_id", help="a ready batch of yours with a label column, instead of FILE")
    train.add_argument("--label-field", required=True, help="the column holding your labels")
    train.add_argument("--text-field", help="the text column of FILE (default: detected)")
    train.add_argument("--format", choices=("csv", "json", "jsonl"), help="FILE's format (default: its suffix)")
    train.add_argument("--name", help="your name for the model")
    train.add_argument("--no-wait", action="store_true", help="print the id at once, while it trains")
    train.add_argument("--timeout", type=float, default=1800, help="seconds to wait (default 1800)")
    add_api_options(actions.add_parser("list", help="list your models (* marks your default)"))
    show = add_api_options(actions.add_parser("show", help="one model: status, model card or error (JSON)"))
    show.add_argument("model_id")
    delete = add_api_options(actions.add_parser("delete", help="delete a model (tasks that used it stay readable)"))
    delete.add_argument("model_id")
    default = add_api_options(
        actions.add_parser("default", help="set your default model (used by tasks that name none), or show it")
    )
    default.add_argument("model_id", nargs="?")
    default.add_argument("--none", action="store_true", help="unset the default")
    models.set_defaults(run=models_command)


def models_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        return _run(client, args)
    finally:
        client.close()


def _run(client: Any, args: argparse.Namespace) -> int:
    if args.action == "train":
        return _train(client, args)
    if args.action == "list":
        listing = client.models()
        for model in listing["items"]:
            mark = "*" if model["is_default"] else " "
            error = f"  {model['error']['code']}" if model.get("error") else ""
            print(
                f"{mark} {model['model_id']}  {model['status']:<8}  {model['created_at']}  "
                f"{model.get('name') or ''}{error}"
            )
        return 0
    if args.action == "show":
        import json

        print(json.dumps(client.model(args.model_id), indent=2))
        return 0
    if args.action == "delete":
        client.delete_model(args.model_id)
        print(f"model {args.model_id} deleted", file=sys.stderr)
        return 0
    if args.none or args.model_id:
        if args.none and args.model_id:
            raise UsageError("give a model id or --none, not both")
        chosen = client.set_default_model(None if args.none else args.model_id)["model_id"]
        print(f"default model: {chosen or 'none'}", file=sys.stderr)
        return 0
    print(client.models()["default_model_id"] or "none")
    return 0


def _train(client: Any, args: argparse.Namespace) -> int:
    if (args.file is None) == (args.task_id is None):
        raise UsageError("give a labelled FILE or --task TASK_ID (one of them)")
    task_id = args.task_id or _upload_and_wait(client, args)
    model = client.create_model(task_id, args.label_field, args.name)
    model_id = model["model_id"]
    print(f"model {model_id}: training from task {task_id}, labels in {args.label_field!r}", file=sys.stderr)
    if not args.no_wait:
        model = _wait_for_model(client, model_id, args.timeout)
        if model["status"] != "ready":
            error = model.get("error") or {}
            raise ApiError(f"model {model_id} failed: {error.get('detail')} ({error.get('code')})", error.get("code"))
        card = model.get("card") or {}
        figures = ", ".join(f"{k} {v}" for k, v in card.items() if isinstance(v, (int, float)) and k != "rows")
        print(
            f"model {model_id} ready (version {model['version']}){': ' + figures if figures else ''}", file=sys.stderr
        )
    print(model_id)
    return 0


def _upload_and_wait(client: Any, args: argparse.Namespace) -> str:
    from reviewpulse_cli.analyze import TERMINAL, format_of, wait_for

    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    file_format = args.format or format_of(args.file)
    if file_format not in ("csv", "json", "jsonl"):
        raise UsageError(f"{args.file.name}: a labelled file is csv, json or jsonl; pass --format")
    with args.file.open("rb") as content:
        created = client.create_batch(args.file.name, None, format=file_format, text_field=args.text_field)
        task_id = created["task"]["task_id"]
        client.upload(created["upload"], args.file.name, content)
    print(f"task {task_id}: uploaded {args.file.name}; analysing it first", file=sys.stderr)
    task = wait_for(client, task_id, total_hint=None, show=False, timeout=args.timeout, until=TERMINAL)
    if task["status"] != "ready":
        error = task.get("error") or {}
        raise ApiError(f"task {task_id} ended in {task['status']}: {error.get('detail')} ({error.get('code')})")
    return task_id


def _wait_for_model(client: Any, model_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        model = client.model(model_id)
        if model["status"] != "training":
            return model
        if time.monotonic() > deadline:
            raise ApiError(
                f"model {model_id} is still training after {timeout:g} s; it goes on: "
                f"`reviewpulse models show {model_id}` tells when it is done"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
