"""The ``denoise-studio`` console entry: a subcommand runs the CLI before any Qt import; none opens the app."""

from __future__ import annotations

import sys

SUBCOMMANDS = {"train", "evaluate", "summary", "-h", "--help"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        from engine.cli import main as cli_main

        return cli_main(argv)
    from gui.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
