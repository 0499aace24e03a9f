"""The ``denoise-studio`` console entry: a subcommand runs the CLI before any Qt import; none (or a model
file) opens the app.

    denoise-studio                      the app, with the shipped model
    denoise-studio MODEL                the app, with a model file or shipped model name
    denoise-studio train|evaluate|summary|export|runs|sweep ...   the command line (``engine.cli``)
    denoise-studio --version | --help

A word that is neither a command nor a model (``denoise-studio evalute m.npz``) is a usage error,
not an app that opens.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

SUBCOMMANDS = ("train", "evaluate", "summary", "export", "runs", "sweep")
CLI_FLAGS = {"-h", "--help", "--version"}
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in CLI_FLAGS):
        from engine.cli import main as cli_main

        try:
            return cli_main(argv)
        except SystemExit as exc:  # argparse's --help, --version and usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if argv and not _opens_in_app(argv[0]):
        return _unknown_command(argv[0])
    from gui.app import main as app_main

    return app_main(argv)


def gui_main() -> int:
    """``denoise-studio-gui``: the app only (a GUI script: no console window on Windows)."""
    from gui.app import main as app_main

    return app_main(sys.argv[1:])


def _opens_in_app(word: str) -> bool:
    """A Qt option (``-style fusion``), a model file (existing or named ``.npz``, or a path), or a shipped model."""
    if word.startswith("-") and not word.startswith("--"):
        return True
    if word.startswith("--"):
        return False
    path = Path(word)
    if path.suffix or len(path.parts) > 1 or path.exists():
        return True
    from engine.model_paths import shipped_models

    return word in shipped_models()


def _unknown_command(word: str) -> int:
    from engine.cli import build_parser

    parser = build_parser()
    parser.print_usage(sys.stderr)
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
    choices = ", ".join(SUBCOMMANDS)
    hint = f"; did you mean {close[0]!r}?" if close else f" (choose from {choices}, or give a model file)"
    what = "unknown option" if word.startswith("-") else "unknown command or model"
    print(f"denoise-studio: error: {what} {word!r}{hint}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
