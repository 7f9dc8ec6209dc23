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

from reviewpulse_cli.local_state import ROOT

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

    from reviewpulse_cli import main as cli

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
        # The demo's own files: written again on every run (--force).
        command = ["analyze", str(args.file), "--out", str(args.out), "--force", "--endpoint", running.api_url]
        command += ["--api-key", running.api_key]
        command += ["--id-field", id_field] if id_field else []
        command += ["--text-field", args.text_field] if args.text_field else []
        # The sample's own columns give the report its segments and its time axis.
        command += ["--report", str(report_out)]
        command += ["--group-by", "product", "--time-field", "created_at"] if sample else []
        return cli.main(command)
    finally:
        running.stop()
        print("local stack stopped", file=sys.stderr)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
