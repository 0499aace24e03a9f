"""The ``denoise-studio`` entry: commands go to the CLI, a typo is a usage error, --version, no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import __version__
from engine.cli import COMMANDS
from gui import launcher
from gui.app import display_missing

REPO = Path(__file__).resolve().parents[2]


def test_the_launcher_knows_every_cli_command():
    assert set(launcher.SUBCOMMANDS) == set(COMMANDS)


def test_version(capsys):
    assert launcher.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"denoise-studio {__version__}"


TYPOS = [(["evalute", "m.npz"], "did you mean 'evaluate'"), (["frobnicate"], "unknown command"),
         (["--frob"], "unknown option")]  # fmt: skip


@pytest.mark.parametrize(("argv", "words"), TYPOS)
def test_an_unknown_command_is_a_usage_error_not_the_app(argv, words, capsys, monkeypatch):
    import gui.app

    monkeypatch.setattr(gui.app, "main", lambda argv: pytest.fail("the app opened"))
    assert launcher.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: denoise-studio") and words in err


def test_a_model_file_or_shipped_name_opens_the_app(monkeypatch, tmp_path):
    import gui.app

    opened = []
    monkeypatch.setattr(gui.app, "main", lambda argv: opened.append(argv) or 0)
    for argv in (["mnist_denoising_autoencoder"], [str(tmp_path / "new.npz")], []):
        assert launcher.main(argv) == 0
    assert opened == [["mnist_denoising_autoencoder"], [str(tmp_path / "new.npz")], []]


def test_display_missing_reads_the_environment():
    assert display_missing({}, "linux")
    assert not display_missing({"DISPLAY": ":0"}, "linux")
    assert not display_missing({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not display_missing({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not display_missing({}, "win32") and not display_missing({}, "darwin")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt needs no DISPLAY elsewhere")
@pytest.mark.parametrize("entry", ["gui.launcher", "gui"])
def test_a_headless_start_says_so_in_one_line(entry):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([sys.executable, "-m", entry], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "denoise-studio: no display: set DISPLAY, or QT_QPA_PLATFORM=offscreen for screenshots\n"
