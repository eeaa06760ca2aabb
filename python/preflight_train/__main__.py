"""python -m preflight_train: user errors (a bad config, unreadable data, a refused checkpoint) end with one
line on stderr and exit status 2 instead of a Python traceback; PREFLIGHT_TRACEBACK=1 shows the traceback."""

import json
import os
import sys

from .cli import main


def _run() -> int:
    try:
        return main()
    except (ValueError, TypeError, OSError, json.JSONDecodeError) as exc:
        if os.environ.get("PREFLIGHT_TRACEBACK"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        try:
            print(f"preflight_train: error: {message}", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return 2
    except RuntimeError as exc:
        from .train import DistributedError

        if not isinstance(exc, DistributedError) or os.environ.get("PREFLIGHT_TRACEBACK"):
            raise
        try:
            print(f"preflight_train: error: {' '.join(str(exc).split())}", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return 1


raise SystemExit(_run())
