"""``--runs-db`` and ``--no-record``: where a command records its runs, and the recorder it trains with."""

from __future__ import annotations

import argparse

from engine.runs import DATABASE_ENV, RunRecorder


def add_recording_arguments(parser: argparse.ArgumentParser, *, record: bool = True) -> None:
    """``--runs-db`` (every command that reads or writes runs); ``--no-record`` too where ``record``."""
    parser.add_argument(
        "--runs-db",
        metavar="PATH",
        help=f"the runs database (default: ${DATABASE_ENV}, else runs.db in the user data folder)",
    )
    if record:
        parser.add_argument("--no-record", action="store_true", help="do not record this run in the runs database")


def recorder_for(args: argparse.Namespace, *, source: str, **links) -> RunRecorder | None:
    """The recorder for a command's run, or None with ``--no-record``; it records the command line."""
    if getattr(args, "no_record", False):
        return None
    return RunRecorder(args.runs_db, source=source, links={"command": getattr(args, "command_line", None), **links})
