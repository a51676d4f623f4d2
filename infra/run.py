"""``make run``: bring up the local stack and the three functions, serve until Ctrl-C.

``--once`` exits after start-up (and, once samples exist, after processing them).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from infra.stack import REPO_ROOT, LocalStack, StackError

STATE_DIR = REPO_ROOT / ".local" / "stack"
ENV_FILE = REPO_ROOT / ".local" / "stack.env"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--once", action="store_true", help="exit after start-up and samples")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    claude = "fallback"
    stack = LocalStack(STATE_DIR, claude=claude)
    print(f"starting servers (logs in {stack.logs})", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        stack.write_env_file(ENV_FILE)
        _print_summary(stack)
        if args.once:
            return 0
        print("serving; press Ctrl-C to stop", flush=True)
        while not stop.wait(1.0):
            try:
                stack.assert_healthy()
            except StackError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        return 0
    finally:
        print("stopping servers", flush=True)
        stack.stop()
        ENV_FILE.unlink(missing_ok=True)
        print("stopped", flush=True)


def _print_summary(stack: LocalStack) -> None:
    env = stack.env()
    print("\nlocal stack is up:")
    for name, server in stack.servers.items():
        print(f"  {name:<10} 127.0.0.1:{server.port:<6} log {server.log_path}")
    print(f"\n  webhook URL   {env['WEBHOOK_URL']}  (routes /mailgun /sendgrid /postmark /raw)")
    print(f"  addresses     {ENV_FILE}  (set -a; . {ENV_FILE}; set +a)")
    print(f"  mailbox       {stack.mailbox_dir / 'mail'}\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
