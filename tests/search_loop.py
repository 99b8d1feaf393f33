"""A reader process for the index-generation test: runs `papertide search` and `similar` in a
loop (in this process, through CliRunner, so each call costs a search, not a start-up) until
STOP_FILE exists, then writes how many calls ran and which failed to RESULT_FILE."""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from typer.testing import CliRunner

from papertide.cli import app


def main(stop_file: Path, result_file: Path) -> None:
    runner = CliRunner()
    calls, failures = 0, []
    commands = [
        ["search", "sparse adapters", "--json"],
        ["search", "radiance fields", "--mode", "semantic", "--json"],
        ["similar", "2407.05528", "--k", "5", "--json"],
    ]
    while not stop_file.exists():
        args = commands[calls % len(commands)]
        outcome = runner.invoke(app, args)
        calls += 1
        if outcome.exit_code != 0 or outcome.exception is not None:
            detail = (
                "".join(traceback.format_exception(outcome.exception))
                if (outcome.exception and not isinstance(outcome.exception, SystemExit))
                else outcome.stderr
            )
            failures.append({"args": args, "exit": outcome.exit_code, "detail": detail[-2000:]})
        else:
            json.loads(outcome.stdout)  # a readable answer, whatever its content
        time.sleep(0.05)  # a steady reader, not a CPU hog: the writer shares two cores
    result_file.write_text(json.dumps({"calls": calls, "failures": failures}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
