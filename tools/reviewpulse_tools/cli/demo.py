"""`make demo`: the main job on the embedded local default, start to finish.

Starts the local stack (moto server + API on localhost + queue pollers, on free ports so a
running `make dev` is left alone), analyses the shipped sample batch with `reviewpulse analyze`
over HTTP — progress bar, summary table, results file, and the HTML report beside it — and stops
the stack.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

from reviewpulse_tools.local.state import ROOT

DEFAULT_FILE = ROOT / "samples" / "reviews.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reviewpulse-demo", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--out", type=Path, default=Path("demo-results.csv"))
    parser.add_argument("--report-out", type=Path, help="the HTML report (default: demo-report.html beside --out)")
    parser.add_argument("--text-field")
    parser.add_argument("--id-field")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"reviewpulse: no such file: {args.file}", file=sys.stderr)
        return 2
    sample = args.file.resolve() == DEFAULT_FILE
    id_field = args.id_field or ("order_id" if sample else None)
    report_out = args.report_out or args.out.with_name("demo-report.html")

    from reviewpulse_tools.cli import main as cli
    from reviewpulse_tools.local.stack import free_port, start

    # The demo's stack is its own: a private state file, so the CLI below finds this one.
    workdir = Path(tempfile.mkdtemp(prefix="reviewpulse-demo-"))
    os.environ["REVIEWPULSE_STATE"] = str(workdir / "stack.json")
    print("starting the local stack…", file=sys.stderr)
    running = start(api_port=free_port(), aws_port=free_port(), function_output=workdir / "functions.log")
    # SIGTERM (or a closed terminal) stops the stack as Ctrl-C does.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        print(f"API on {running.api_url}, AWS (moto) on {running.aws_endpoint}", file=sys.stderr)
        print(f"the functions' logs: {workdir / 'functions.log'}", file=sys.stderr)
        # This stack, whatever REVIEWPULSE_ENDPOINT or REVIEWPULSE_API_KEY may say.
        command = ["analyze", str(args.file), "--out", str(args.out), "--endpoint", running.api_url]
        command += ["--api-key", running.api_key]
        command += ["--id-field", id_field] if id_field else []
        command += ["--text-field", args.text_field] if args.text_field else []
        # The sample's own columns give the report its segments and its time axis.
        command += ["--report"] + (["--group-by", "product", "--time-field", "created_at"] if sample else [])
        done = cli.main(command)
        if done != 0:
            return done
        newest = _newest_task(running.api_url, running.api_key)
        access = ["--endpoint", running.api_url, "--api-key", running.api_key]
        done = cli.main(["report", newest, "--out", str(report_out), *access])
        if done == 0:
            print(f"open {report_out.resolve()} in a browser: it needs no network", file=sys.stderr)
        return done
    finally:
        running.stop()
        print("local stack stopped", file=sys.stderr)


def _newest_task(api_url: str, api_key: str) -> str:
    from reviewpulse_tools.cli.client import ApiClient

    client = ApiClient(api_url, api_key)
    try:
        return client.tasks(limit=1)["items"][0]["task_id"]
    finally:
        client.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
