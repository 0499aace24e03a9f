"""The Architecture tab: the hourglass diagram, the summary table, weight images, and a layer editor."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.activations import ACTIVATIONS
from engine.model_limits import MAX_WIDTH  # the editor offers every width a model may have
from engine.nn import MLP, build_mlp
from gui.app_state import AppState
from gui.architecture.layer_presets import PresetBox, suggest_training
from gui.architecture.weights_view import WeightsView
from gui.common.hints import explain_disabled, hint
from gui.common.hourglass_item import HourglassView
from gui.common.when_shown import WhenShown

N_PIXELS = 784
WIDTH_HINT = (
    f"Units in this layer, 1–{MAX_WIDTH}. The narrowest layer is the code: 10 squeezes a digit about 80-fold; 32–64 "
    "keep more detail"
)
LAST_WIDTH_WHY = "an autoencoder's output layer always gives the 784 pixels back, one unit per pixel"
SKIP_CHOICES = (
    ("none", None, "No skip path: the output is the last layer's image, all of it drawn from the code"),
    ("gate", "gate",
     "A learned gate (Sigmoid, read from the last hidden layer) mixes the input and the network's image pixel by "
     "pixel: output = g · input + (1 − g) · network. Light noise passes through, heavy noise is redrawn. The "
     "default model has one"),
    ("residual", "residual",
     "The network draws a correction added to the input: output = clip(input + network, 0, 1). Its last layer "
     "should be Linear (choosing this sets it), so the correction can darken pixels as well as brighten them"),
)  # fmt: skip
"""The editor's skip-path choices: (shown name, the engine's kind, tooltip)."""


class SummaryTable(QTableWidget):
    """One row per Dense layer, one for a skip path, and a total row: layer, shape, activation, params, W and b
    shapes."""

    HEADERS = ["Layer", "Shape", "Activation", "Parameters", "W shape", "b shape"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # every column in view, no sideways scrolling
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)  # "784 → 784" in bold, never cut
        header.setMinimumSectionSize(48)
        self._fit_headings()
        hint(
            self,
            "The model summary: each Dense layer's shape (inputs → outputs), activation, and how many weights and "
            "biases it learns (n_in × n_out + n_out); a skip path's row below them. Right-click or Ctrl+C copies the "
            "summary as text",
        )
        self.summary_text = ""  # the engine's summary of the model shown (what the CLI prints)
        self.copy_action = QAction("Copy summary as text", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_summary)
        self.addAction(self.copy_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def copy_summary(self) -> None:
        """The model's summary, as ``denoise-studio summary`` prints it, to the clipboard."""
        QGuiApplication.clipboard().setText(self.summary_text)

    def _fit_headings(self) -> None:
        """No narrower than every heading whole: the stretching columns share the width equally, so each needs the
        widest heading's room; the Shape column its contents'."""
        header = self.horizontalHeader()
        widest = max(header.fontMetrics().horizontalAdvance(text) for text in self.HEADERS) + 16
        shape = max(header.sectionSizeHint(1), self.sizeHintForColumn(1))
        self.setMinimumWidth((len(self.HEADERS) - 1) * widest + shape + 2 * self.frameWidth())

    def set_model(self, model: MLP) -> None:
        self.summary_text = model.summary(print_fn=None)
        layers = model.layers
        rows = [
            [f"Dense {i + 1}", f"{layer.n_in} → {layer.n_out}", layer.activation.name, f"{layer.n_params:,}",
             str(tuple(layer.W.shape)), str(tuple(layer.b.shape))]
            for i, layer in enumerate(layers)
        ]  # fmt: skip
        skip, tip = model.skip, ""
        if skip is not None and skip.kind == "gate":
            gate = skip.layers[0]
            rows.append(["Gate (skip)", f"{gate.n_in} → {gate.n_out}", gate.activation.name, f"{gate.n_params:,}",
                         str(tuple(gate.W.shape)), str(tuple(gate.b.shape))])  # fmt: skip
            tip = (f"The skip path's gate reads layer {len(layers) - 1}'s output and gives each pixel a weight g in "
                   f"0–1: output = g · input + (1 − g) · Dense {len(layers)}'s image")  # fmt: skip
        elif skip is not None:
            rows.append([f"{skip.name} (skip)", f"{skip.n} → {skip.n}", "clip to 0–1", "0", "", ""])
            tip = f"The skip path adds the input to Dense {len(layers)}'s image: output = clip(input + image, 0, 1)"
        self.setRowCount(len(rows) + 1)
        for i, cells in enumerate(rows):
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                align = Qt.AlignmentFlag.AlignRight if col == 3 else Qt.AlignmentFlag.AlignLeft
                item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                if i >= len(layers):
                    item.setToolTip(tip)
                self.setItem(i, col, item)
        total = ["Total", f"{model.n_in} → {model.n_out}", "", f"{model.n_params:,}", "", ""]
        for col, text in enumerate(total):
            item = QTableWidgetItem(text)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            if col == 3:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(len(rows), col, item)
        self._fit_headings()


class LayerEditor(QGroupBox):
    """Edit Dense layers (784 in and 784 out are fixed); ``newModel`` sends a fresh model built by the engine."""

    newModel = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Edit layers", parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Units out", "Activation"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        hint(
            self.table,
            "One row per Dense layer, from input to output: the first takes the 784 pixels, the last must give 784 "
            "back. Select a row, then Add or Remove layers",
        )
        self.add_button = QPushButton("Add layer")
        hint(
            self.add_button,
            "Insert a Dense layer of 32 ReLU units before the selected row (or before the output layer); set its "
            "width and activation in the table",
        )
        self.add_button.clicked.connect(self.add_layer)
        self.remove_button = QPushButton("Remove layer")
        hint(
            self.remove_button,
            "Remove the selected hidden layer. The output layer stays: an autoencoder must give 784 pixels back",
        )
        self.remove_button.clicked.connect(self.remove_layer)
        self.new_button = QPushButton("New model")
        self.new_button.setObjectName("primary")
        hint(
            self.new_button,
            "Build a fresh, untrained model with these layers and go to the Training tab to train it (asks to save "
            "the current one first if it changed)",
        )
        self.new_button.clicked.connect(self.emit_new_model)
        self.shape_label = QLabel("")
        self.shape_label.setObjectName("caption")
        self.shape_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        self.presets = PresetBox()
        self.presets.presetChosen.connect(
            lambda preset: self.set_layers(list(preset.widths), list(preset.activations), preset.skip)
        )
        self.skip_box = QComboBox()
        for name, kind, tip in SKIP_CHOICES:
            self.skip_box.addItem(name, kind)
            self.skip_box.setItemData(self.skip_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        hint(
            self.skip_box,
            "A path from the input straight to the output, beside the layers: none; a gate that mixes the input and "
            "the network's image per pixel; or a residual, where the network draws a correction to the input",
        )
        self.skip_box.activated.connect(self._on_skip_chosen)
        skip_line = QHBoxLayout()
        skip_label = QLabel("Skip path")
        skip_label.setBuddy(self.skip_box)
        skip_line.addWidget(skip_label)
        skip_line.addWidget(self.skip_box, 1)
        first = QHBoxLayout()
        first.addWidget(QLabel("Input: 784 pixels (28×28)"), 1)
        first.addWidget(self.presets)
        layout = QVBoxLayout(self)
        layout.addLayout(first)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(skip_line)
        layout.addWidget(self.shape_label)
        layout.addWidget(self.new_button)

    def _row_widgets(self, width: int, activation: str, last: bool) -> tuple[QSpinBox, QComboBox]:
        spin = QSpinBox()
        spin.setRange(1, MAX_WIDTH)
        spin.setValue(N_PIXELS if last else width)
        hint(spin, WIDTH_HINT)
        if last:
            explain_disabled(spin, LAST_WIDTH_WHY)
        spin.setEnabled(not last)
        spin.valueChanged.connect(self._update_label)
        combo = QComboBox()
        combo.addItems(list(ACTIVATIONS))
        combo.setCurrentText(activation)
        hint(
            combo,
            "Activation after this layer: ReLU for hidden layers, Sigmoid for the output (keeps pixels in 0–1); "
            "Linear everywhere makes the network a PCA",
        )
        combo.currentTextChanged.connect(self._update_label)
        return spin, combo

    def set_layers(self, widths: list[int], activations: list[str], skip: str | None = None) -> None:
        """widths: each layer's n_out (the last is 784); one activation key per layer; ``skip``: the skip path's
        kind ("gate", "residual") or None."""
        self.table.setRowCount(0)
        for i, (width, act) in enumerate(zip(widths, activations, strict=True)):
            self._insert_row(i, width, act, last=i == len(widths) - 1)
        self.skip_box.setCurrentIndex(max(self.skip_box.findData(skip), 0))
        self._update_label()

    def skip(self) -> str | None:
        """The skip path chosen: "gate", "residual" or None."""
        return self.skip_box.currentData()

    def _on_skip_chosen(self) -> None:
        """A residual adds the network's image to the input: a Sigmoid output could only brighten, so it goes
        Linear (the user may set it back)."""
        last = self.table.cellWidget(self.table.rowCount() - 1, 1) if self.table.rowCount() else None
        if self.skip() == "residual" and last is not None and last.currentText() == "sigmoid":
            last.setCurrentText("linear")
        self._update_label()

    def _insert_row(self, row: int, width: int, activation: str, last: bool = False) -> None:
        self.table.insertRow(row)
        spin, combo = self._row_widgets(width, activation, last)
        self.table.setCellWidget(row, 0, spin)
        self.table.setCellWidget(row, 1, combo)

    def layers(self) -> tuple[list[int], list[str]]:
        """(widths from 784 in to 784 out, activation keys)."""
        widths, acts = [N_PIXELS], []
        for row in range(self.table.rowCount()):
            widths.append(self.table.cellWidget(row, 0).value())
            acts.append(self.table.cellWidget(row, 1).currentText())
        widths[-1] = N_PIXELS
        return widths, acts

    def add_layer(self) -> None:
        n = self.table.rowCount()
        row = self.table.currentRow()
        row = n - 1 if row < 0 or row >= n else row
        self._insert_row(row, 32, "relu")
        self._update_label()

    def remove_layer(self) -> None:
        n = self.table.rowCount()
        if n <= 2:
            self.shape_label.setText("An autoencoder needs at least one hidden layer before the 784-unit output.")
            return
        row = self.table.currentRow()
        row = n - 2 if row < 0 or row >= n - 1 else row
        self.table.removeRow(row)
        self._update_label()

    def _update_label(self) -> None:
        widths, _ = self.layers()
        skip = self.skip()
        self.shape_label.setText("Shape: " + " → ".join(str(w) for w in widths) + (f" + {skip} skip" if skip else ""))

    def build(self) -> MLP:
        """A fresh model of the table's layers and the chosen skip path (ValueError beyond the engine's limits)."""
        widths, acts = self.layers()
        return suggest_training(build_mlp(widths, acts, seed=None, skip=self.skip()))

    def emit_new_model(self) -> None:
        try:
            model = self.build()
        except ValueError as exc:  # beyond a limit every model obeys: say so here, nothing is replaced
            self.shape_label.setText(f"Cannot make this model: {exc}.")
            return
        self.newModel.emit(model)


class ArchitectureTab(QWidget):
    """Shows the app's current model; the editor proposes new ones (``editor.newModel``, for the window)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: MLP | None = None  # waiting to be shown
        self._when_shown = WhenShown(self, self._show_model)
        self.hourglass = HourglassView()
        hint(
            self.hourglass,
            "The network as an hourglass lying on its side: each column is a layer, its height grows with the layer's"
            " width (log scale); encoder blue, the code amber, decoder green; a dashed arc over them is a skip path "
            "from the input to the output",
        )
        self.table = SummaryTable()
        self.weights = WeightsView()
        self.editor = LayerEditor()
        self.editor.setMaximumWidth(340)
        diagram = QGroupBox("Network")
        QVBoxLayout(diagram).addWidget(self.hourglass)
        summary = QGroupBox("Summary")
        QVBoxLayout(summary).addWidget(self.table)
        weights = QGroupBox("Weights as images")
        QVBoxLayout(weights).addWidget(self.weights)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(diagram)
        top.addWidget(self.editor)
        top.setStretchFactor(0, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(summary)
        bottom.addWidget(weights)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        bottom.setSizes([640, 600])
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(top)
        outer.addWidget(bottom)
        outer.setStretchFactor(0, 1)
        outer.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(outer)
        state.modelChanged.connect(lambda change: self.set_model(change.model))
        if state.model is not None:  # made after the start (when first shown): the model already there
            self.set_model(state.model)

    def set_model(self, model: MLP) -> None:
        """Show ``model``; while the tab is hidden, only once it is shown (switching models stays quick)."""
        self._model = model
        self._when_shown.request()

    def _show_model(self) -> None:
        model, self._model = self._model, None
        if model is None:
            return
        self.hourglass.set_model(model)
        self.table.set_model(model)
        self.weights.set_model(model)
        layers = model.layers
        self.editor.set_layers([layer.n_out for layer in layers], [layer.activation.key for layer in layers],
                               None if model.skip is None else model.skip.kind)  # fmt: skip
