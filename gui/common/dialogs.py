"""Error and question dialogs: each says what went wrong and what to do about it."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QSizePolicy, QSpacerItem, QWidget

from engine.data_sources import data_source
from engine.idx import DatasetFileError
from engine.model_format import ModelFileError
from engine.training import TrainingDiverged


def describe_error(exc: BaseException, dataset: str = "mnist") -> tuple[str, str]:
    """(what went wrong, what to do) for an engine error; ``dataset`` names the data set a data error is about."""
    if isinstance(exc, ModelFileError):
        return (
            f"Could not open the model file\n{exc.path}\n\n{sentence(exc.problem)}",
            "Choose a model saved by Denoise Studio (a .npz file) with File ▸ Open model. "
            "The model that was loaded before stays loaded.",
        )
    if isinstance(exc, DatasetFileError):
        source = data_source(dataset)
        fix = exc.fix or f"Check the {source.title} folder."
        return (
            f"The {source.title} data could not be read.\n{exc.path}\n\n{sentence(exc.problem)}",
            f"{sentence(fix)} Set {source.data_env} to the folder holding the four {source.title} .gz files, "
            "or unset it to let Denoise Studio download them.",
        )
    return (str(exc) or type(exc).__name__, "Nothing was lost; try again or change the settings.")


def sentence(text: str) -> str:
    """Capitalised, ending in one full stop (or the text's own ? or !)."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


READABLE_CHARS = 70
"""A message box is at least this many average characters wide (its icon included): Qt's own width, ~40, made a
two-sentence note a tall, narrow column."""


def message_box(
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton,
    parent: QWidget | None,
    informative: str = "",
) -> QMessageBox:
    """The app's message boxes (Help ▸ About aside): ``text`` (what happened) above ``informative`` (what to do),
    at least ``READABLE_CHARS`` characters wide (at most half the screen)."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setInformativeText(informative)
    width = box.fontMetrics().averageCharWidth() * READABLE_CHARS
    screen = (parent or box).screen().availableGeometry()
    layout = box.layout()  # a grid: the icon, the texts, the buttons
    spacer = QSpacerItem(min(width, screen.width() // 2), 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Minimum)
    layout.addItem(spacer, layout.rowCount(), 0, 1, layout.columnCount())
    return box


def error_box(parent: QWidget | None, title: str, what: str, todo: str) -> QMessageBox:
    """The error dialog, built but not shown (the screenshot script grabs it)."""
    return message_box(QMessageBox.Icon.Critical, title, what, QMessageBox.StandardButton.Ok, parent, todo)


def show_error(parent: QWidget | None, title: str, what: str, todo: str) -> None:
    """Show a modal error dialog."""
    error_box(parent, title, what, todo).exec()


def show_notes(parent: QWidget | None, title: str, what: str, notes: list[str]) -> None:
    """Show a modal note listing ``notes`` (one line each): something done that the user should know of."""
    notes_text = "\n".join(f"• {sentence(note)}" for note in notes)
    message_box(QMessageBox.Icon.Information, title, what, QMessageBox.StandardButton.Ok, parent, notes_text).exec()


def show_exception(parent: QWidget | None, title: str, exc: BaseException, dataset: str = "mnist") -> None:
    what, todo = describe_error(exc, dataset)
    show_error(parent, title, what, todo)


def show_run_error(parent: QWidget | None, error: BaseException | None, dataset: str = "mnist") -> None:
    """The dialog for a training run (on ``dataset``) that diverged or could not run."""
    if isinstance(error, TrainingDiverged):
        show_error(parent, "Training diverged", str(error), "Lower the learning rate (e.g. divide it by 10) and "
                   "start again.")
    elif isinstance(error, DatasetFileError):
        what, todo = describe_error(error, dataset)
        show_error(parent, "Training could not start", what, todo + " The model was not changed.")
    else:
        show_error(parent, "Training failed", f"{type(error).__name__}: {error}",
                   "The model was not changed. Check the settings and press Start again.")


def ask_stop_training(parent: QWidget | None, doing: str) -> bool:
    """"Training is running — stop it and quit?": True to stop (after the current batch) and go on."""
    yes, cancel = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel
    box = message_box(QMessageBox.Icon.Question, "Training is running", f"Training is running — stop it and {doing}?",
                      yes | cancel, parent,
                      "Stopping keeps the weights learned so far; Cancel lets the run go on untouched.")  # fmt: skip
    box.button(yes).setText(f"Stop and {doing.split()[0]}")
    box.setDefaultButton(cancel)
    return QMessageBox.StandardButton(box.exec()) == yes


def ask_save_changes(parent: QWidget | None, name: str, doing: str = "closing") -> QMessageBox.StandardButton:
    """Save / Discard / Cancel for an unsaved trained model; ``doing`` names the action that would lose it."""
    box = message_box(
        QMessageBox.Icon.Question,
        "Unsaved model",
        f"The model “{name}” has been trained or changed and is not saved.",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        parent,
        f"Save it before {doing}? Discard loses the training.",
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    return QMessageBox.StandardButton(box.exec())
