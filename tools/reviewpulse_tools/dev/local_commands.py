"""`reviewpulse dev` (the local stack in the foreground) and `reviewpulse invoke` (one function,
one event, as `sam local invoke`). The stack's code, moto and the template tooling load only here."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from reviewpulse_cli.errors import UsageError

DEV_DESCRIPTION = """\
Run the whole suite on this machine, in the foreground, as `sam local start-api` would without a
container runtime: moto plays AWS, an HTTP gateway routes each request to its function after the
authorizer. It prints where the API listens, the API key of the default tenant `local`, where AWS
answers and where its state file is; Ctrl-C or SIGTERM stops it.

Environment: REVIEWPULSE_PORT and REVIEWPULSE_AWS_PORT set the default ports; REVIEWPULSE_STATE
moves the state file (default .local/stack.json), through which the other commands find the
stack; the API key is kept beside it (file `api-key`) and reused by the next start.
"""


def register(commands: argparse._SubParsersAction) -> None:
    dev = commands.add_parser(
        "dev",
        help="run the local stack in the foreground",
        description=DEV_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dev.add_argument("--host", default="127.0.0.1", help="the address both servers listen on (default: 127.0.0.1)")
    dev.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("REVIEWPULSE_PORT", "3000"),
        help="the API's port (default: $REVIEWPULSE_PORT, else 3000)",
    )
    dev.add_argument(
        "--aws-port",
        type=_port,
        default=os.environ.get("REVIEWPULSE_AWS_PORT", "5005"),
        help="the AWS endpoint's (moto's) port (default: $REVIEWPULSE_AWS_PORT, else 5005)",
    )
    dev.add_argument(
        "--env-vars",
        type=Path,
        help="env.json overrides of the functions' environment, as for `sam local invoke --env-vars`",
    )
    dev.add_argument("--log-level", default=None, help="the functions' log level (default: the template's)")
    dev.add_argument(
        "--fake-llm",
        action="store_true",
        help="serve the llm engine from a local fake OpenAI-compatible server (no key needed)",
    )
    dev.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, as for `sam deploy`: e.g. ThrottleRateLimit=5 ThrottleBurstLimit=10 QuotaLimit=1000",
    )
    dev.set_defaults(run=dev_command)

    invoke = commands.add_parser(
        "invoke",
        help="invoke one function with an event against the local stack",
        description="Invoke one function with one event against the running local stack, as `sam local invoke`: "
        "its logs on stderr, its result on stdout. An API Gateway proxy event runs the authorizer first, as "
        "the gateway does.",
    )
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("--event", "-e", type=Path, required=True, help="the event file (JSON)")
    invoke.add_argument("--env-vars", type=Path, help="env.json overrides, as for `sam local invoke --env-vars`")
    invoke.set_defaults(run=invoke_command)


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535)")
    return int(value)


def dev_command(args: argparse.Namespace) -> int:
    import signal

    from reviewpulse_tools.local.stack import BadEnvFile, PortInUse, UnknownFunction, start
    from reviewpulse_tools.local.template import BadParameter

    try:
        running = start(
            host=args.host,
            api_port=args.port,
            aws_port=args.aws_port,
            env_file=args.env_vars,
            function_log_level=args.log_level,
            fake_llm=args.fake_llm,
            parameter_overrides=_parameter_overrides(args.parameter_overrides),
        )
    except (PortInUse, BadEnvFile, BadParameter, UnknownFunction) as exc:
        raise UsageError(str(exc)) from None
    print(running.describe(), flush=True)
    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        while not stopping["now"]:
            time.sleep(0.2)
    finally:
        # A second Ctrl-C while stopping ends it at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        running.stop()
        print("local stack stopped", file=sys.stderr)
    return 0


def _parameter_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter-overrides takes NAME=VALUE pairs, not {pair!r}")
        overrides[name] = value
    return overrides


def invoke_command(args: argparse.Namespace) -> int:
    from reviewpulse_tools.local.stack import BadEnvFile, StackNotRunning, invoke

    try:
        event = json.loads(args.event.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read {args.event}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{args.event} is not JSON: {exc}") from None
    # As `sam local invoke`: the function's own output (logs, metrics) on stderr, its result on
    # stdout; an unhandled error is reported as Lambda reports it.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = invoke(args.function, event, args.env_vars)
    except (StackNotRunning, BadEnvFile) as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0
