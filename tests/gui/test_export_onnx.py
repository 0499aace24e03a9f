"""File ▸ Export ▸ ONNX…: saves through the engine's export; disabled with a hint when onnx is missing; errors
in a dialog."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from gui.main_window import MainWindow


def _export_action(window):
    (export_menu,) = [a.menu() for a in window.menuBar().actions()[0].menu().actions() if a.menu()
                      and a.menu().title() == "Expor&t"]  # fmt: skip
    action = window.actions["export_onnx"]
    assert action in export_menu.actions() and action.text() == "&ONNX…"
    return action


def test_export_onnx_writes_what_predict_gives(window, monkeypatch, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "mine"), ""))
    action = _export_action(window)
    assert action.isEnabled()
    action.trigger()
    session = ort.InferenceSession(str(tmp_path / "mine.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    assert np.max(np.abs(session.run(None, {"input": x})[0] - window.state.model.predict(x))) <= 1e-5
    assert session.get_modelmeta().custom_metadata_map["name"] == window.state.name
    assert "Exported" in window.statusBar().currentMessage()


def test_an_export_error_shows_a_dialog(window, monkeypatch, tmp_path, dialogs_shown):
    pytest.importorskip("onnx")
    (tmp_path / "taken.onnx").mkdir()  # a folder where the file should go
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "taken.onnx"), ""))
    window.actions["export_onnx"].trigger()
    assert len(dialogs_shown) == 1 and "Cannot export ONNX" in dialogs_shown[0] and "taken.onnx" in dialogs_shown[0]


def test_without_onnx_the_action_is_disabled_and_says_what_to_install(qtbot, small_model, settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    win = MainWindow(small_model, settings=settings)
    qtbot.addWidget(win)
    action = _export_action(win)
    assert not action.isEnabled()
    assert "pip install 'denoise-studio[onnx]'" in action.toolTip()


def test_a_file_the_app_did_not_write_is_not_replaced(window, monkeypatch, tmp_path, dialogs_shown):
    pytest.importorskip("onnx")
    mine = tmp_path / "mine.onnx"
    mine.write_bytes(b"someone else's model")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "mine"), ""))  # + .onnx
    window.actions["export_onnx"].trigger()
    assert mine.read_bytes() == b"someone else's model"
    assert len(dialogs_shown) == 1 and dialogs_shown[0].startswith("Not replacing mine.onnx")
