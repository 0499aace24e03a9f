"""A model as one self-contained web page that runs it: draw a digit, add noise, watch the reconstruction.

The page is the template ``engine/web/page.html`` with its style (``page.css``) and scripts (``prepare.js``,
``noise.js``, ``network.js``, ``page.js``) inlined, the model's description as JSON, its weights as base64
(float32, or float16 with ``half``) and a handful of test images of its data set.  It makes no network request
(its Content-Security-Policy forbids every fetch and allows only its own scripts, by hash) and works opened from
disk (``file://``).  Every string taken from the model file reaches the page as JSON and is shown as text.

The page runs the layer kinds in ``WEB_LAYERS`` (Dense today) with the activations in ``WEB_ACTIVATIONS``, and
the skip paths in ``WEB_SKIPS`` (a gate, a residual skip: ``engine.skip``); ``network.js`` has one function per
kind.  A model with anything else is refused with one line (``WebExportError``), as is a model that does not map
784 pixels to 784.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import importlib.resources
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import __version__
from engine.atomic import atomic_write
from engine.data_sources import SOURCES, trained_on
from engine.metrics import mse
from engine.noise import EVAL_NOISE_SEED, NoisePattern

GENERATOR = "denoise-studio"
"""The page's ``<meta name="generator">`` starts with this: what ``is_html_export`` looks for."""
PAGE_FORMAT = "denoise-studio-web-page"
PAGE_FORMAT_VERSION = 1
SCRIPTS = ("prepare.js", "noise.js", "network.js", "page.js")
"""The page's scripts, in the order they run (each defines what the next ones use)."""
N_PIXELS = 784
HANDFUL = 10
"""Test images embedded in the page: the first of each class of the test set (or its first ten)."""
HALF_TOLERANCE = 0.01
"""``half``: float16 weights may change the test MSE by at most 1 % at any level checked."""
HALF_SIGMAS = tuple(round(0.1 * i, 1) for i in range(1, 11))
"""``half``: the Gaussian σ checked besides the model's own training level."""
BRUSH = {"side": 280, "width": 22, "min": 8, "max": 40}
"""The app's canvas (``gui.denoise.canvas.CANVAS_SIDE``, its pen width) and brush slider
(``gui.denoise.draw_panel``), in canvas pixels: the page draws with the same brush on the same 280×280 surface
(a test keeps the two equal)."""
MAX_TEXT = 200
"""Characters kept of any one string from the model file (a name, a setting) shown on the page."""
WEB_ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")
"""Activations ``network.js`` computes."""
ATTRIBUTIONS = {
    "mnist": "The MNIST database of handwritten digits is by Yann LeCun, Corinna Cortes and Christopher J. C. "
    "Burges, licensed under Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0, "
    "creativecommons.org/licenses/by-sa/3.0). The test images in this page are from it, unchanged.",
    "fashion_mnist": "Fashion-MNIST is by Zalando Research (Han Xiao, Kashif Rasul and Roland Vollgraf), "
    "licensed under the MIT License, © 2017 Zalando SE. The test images in this page are from it, unchanged. "
    "It follows the layout of the MNIST database (Yann LeCun, Corinna Cortes, Christopher J. C. Burges; CC BY-SA "
    "3.0).",
}
"""Whose images a page shows and under which licence, by data set."""


class WebExportError(ValueError):
    """The model cannot be exported as a web page (one line saying why); nothing was written."""


class HalfPrecisionRefused(WebExportError):
    """``half``: float16 weights would move the test MSE by more than ``HALF_TOLERANCE``; nothing was written."""


@dataclass(frozen=True)
class HalfCheck:
    """The test MSE with float32 and with float16 weights at each level checked.

    rows : ``(what, mse_float32, mse_float16)`` per level, ``what`` as ``"σ 0.4"`` or ``"masking fraction 0.3"``.
    """

    rows: tuple[tuple[str, float, float], ...]

    @property
    def worst(self) -> tuple[str, float, float]:
        """The row whose MSE changed most, relatively."""
        return max(self.rows, key=lambda row: _change(row[1], row[2]))

    @property
    def worst_change(self) -> float:
        """The largest relative change of the test MSE, e.g. 0.004 for 0.4 %."""
        return _change(*self.worst[1:])

    @property
    def ok(self) -> bool:
        return self.worst_change <= HALF_TOLERANCE


@dataclass(frozen=True)
class WebExport:
    """What ``export_html`` wrote: the file, its size in bytes, the weights' precision, how many test images it
    shows, and the float16 check (``None`` for float32)."""

    path: Path
    size: int
    precision: str
    n_test_images: int
    half_check: HalfCheck | None


# ----- what the page can run ------------------------------------------------------------------------------------------
def _dense_arrays(layer) -> list[tuple[str, np.ndarray]]:
    return [("W", layer.W), ("b", layer.b)]  # (n_out, n_in), (n_out,)


WEB_LAYERS: dict[str, Callable] = {"Dense": _dense_arrays}
"""Layer kinds the page runs (the ``type`` of a layer's spec) -> the layer's arrays in the order ``network.js``
reads them.  A new kind is one entry here and one function in ``network.js``'s ``LAYER_KINDS``."""


def _gate_arrays(skip) -> list[tuple[str, np.ndarray]]:
    return _dense_arrays(skip.dense)  # (n, n_hidden), (n,): g = sigmoid(W h + b)


WEB_SKIPS: dict[str, Callable] = {"gate": _gate_arrays, "residual": lambda skip: []}
"""Skip paths the page runs (the ``type`` of the skip's spec, ``engine.skip``) -> its arrays, written after the
layers' in the order ``network.js``'s ``SKIP_KINDS`` reads them (the order of the model's parameter vector)."""


def check_exportable(model) -> None:
    """Raise ``WebExportError`` (one line) unless the page can run ``model``: layers of the kinds and activations
    it knows, mapping 784 pixels (a 28×28 image) to 784."""
    layers = getattr(model, "layers", None)
    if not layers:
        raise WebExportError("the model has no layers: nothing to export as a web page")
    specs = model.layer_specs()
    for i, spec in enumerate(specs):
        kind = spec.get("type")
        if kind not in WEB_LAYERS:
            raise WebExportError(
                f"cannot export as a web page: layer {i} is of kind {kind!r}, which the page cannot run "
                f"(it runs {', '.join(WEB_LAYERS)})"
            )
        activation = spec.get("activation")
        if activation is not None and activation not in WEB_ACTIVATIONS:
            raise WebExportError(
                f"cannot export as a web page: layer {i}'s activation {activation!r} is not one the page computes "
                f"({', '.join(WEB_ACTIVATIONS)})"
            )
    skip = getattr(model, "skip", None)
    if skip is not None and skip.kind not in WEB_SKIPS:
        raise WebExportError(
            f"cannot export as a web page: the model ends in a skip path of kind {skip.kind!r}, which the page "
            f"cannot run (it runs {', '.join(WEB_SKIPS)})"
        )
    n_in, n_out = specs[0]["n_in"], specs[-1]["n_out"]
    if (n_in, n_out) != (N_PIXELS, N_PIXELS):
        raise WebExportError(
            f"cannot export as a web page: the page shows 28×28 images, so the model must map {N_PIXELS} pixels "
            f"to {N_PIXELS}; this one maps {n_in} -> {n_out}"
        )


# ----- float16 weights ------------------------------------------------------------------------------------------------
def check_half(model, test_images: np.ndarray, progress: Callable[[int, int], None] | None = None) -> HalfCheck:
    """The test MSE of ``model`` with float32 and with float16-rounded weights, at its training level (its noise
    kind; the middle of a range) and at Gaussian σ 0.1, 0.2, …, 1.0, under the fixed evaluation noise.

    test_images : (n, 784) uint8 (or (n, 28, 28), or floats in [0, 1]): the model's test set.
    progress : called with (levels done, levels in all) after each level (the check takes seconds).
    Raises ``HalfPrecisionRefused`` naming the worst level when the MSE changes by more than ``HALF_TOLERANCE``.
    """
    check_exportable(model)
    clean = np.asarray(test_images)
    clean = (clean.astype(np.float32) / 255 if clean.dtype == np.uint8 else clean.astype(np.float32)).reshape(
        len(clean), N_PIXELS
    )
    half = model.copy(metadata=False)
    with np.errstate(over="ignore"):
        rounded = half.params.astype(np.float16)
    if not np.all(np.isfinite(rounded)):
        big = float(np.max(np.abs(model.params)))
        raise HalfPrecisionRefused(
            f"not exporting float16 weights (--half): a weight of {big:.3g} does not fit float16 (at most 65504); "
            "export them as float32"
        )
    half.params[...] = rounded.astype(np.float32)
    setting = model.training_noise
    levels = [] if setting is None else [(setting.kind, setting.default_level)]
    levels += [("gaussian", sigma) for sigma in HALF_SIGMAS if ("gaussian", sigma) not in levels]
    rows = []
    patterns = {kind: NoisePattern(clean.shape, EVAL_NOISE_SEED, kind) for kind, _ in levels}  # the evaluation's draw
    for kind, level in levels:
        noisy = patterns[kind].apply(clean, level)
        rows.append((_level_text(kind, level), mse(model.predict(noisy), clean), mse(half.predict(noisy), clean)))
        if progress is not None:
            progress(len(rows), len(levels))
    check = HalfCheck(tuple(rows))
    if not check.ok:
        what, full, rounded_mse = check.worst
        raise HalfPrecisionRefused(
            f"not exporting float16 weights (--half): they change the test MSE by {check.worst_change:.1%} at {what} "
            f"({full:.5f} -> {rounded_mse:.5f}; at most {HALF_TOLERANCE:.0%} allowed); export them as float32"
        )
    return check


def holds_float16(model) -> bool:
    """Whether every weight is a float16 value already (a model saved with float16 weights, as the gated default
    is): its ``half`` page computes exactly what its float32 page does, at half the size."""
    with np.errstate(over="ignore"):
        return bool(np.array_equal(model.params.astype(np.float16).astype(model.params.dtype), model.params))


def _change(full: float, rounded: float) -> float:
    if full == rounded:
        return 0.0
    return abs(rounded - full) / full if full > 0 else math.inf


def _level_text(kind: str, level: float) -> str:
    return f"σ {level:g}" if kind == "gaussian" else f"{kind.replace('_', '-')} fraction {level:g}"


# ----- the page -------------------------------------------------------------------------------------------------------
def export_html(
    model,
    path: str | os.PathLike,
    *,
    half: bool = False,
    test_images: tuple[np.ndarray, np.ndarray] | None = None,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WebExport:
    """Write ``model`` as one self-contained web page at ``path``, atomically; nothing is written when it refuses.

    Parameters
    ----------
    model : an ``MLP`` mapping 784 -> 784 (``check_exportable``).
    half : store the weights as float16 (half the size) — only when ``check_half`` passes on ``test_images``.
    test_images : ``(images (n, 784) uint8, labels (n,))``, the test set of the data set the model was trained on
        (``engine.dataset.read_split("test", dataset=trained_on(model.metadata))``), or None when it is not on this
        machine: the page then says so and offers drawing only (and ``half`` is refused: nothing to check it on).
    name : the model's name on the page (default: its file's stem, else "model").
    progress : ``half``: called with (levels checked, levels in all) as the check goes.

    Raises ``WebExportError`` (``HalfPrecisionRefused``) with a one-line reason, ``OSError`` naming ``path``.
    Slow part: ``half`` runs the model 22 times over the test set (about 10 s for 784-256-64-256-784).
    """
    check_exportable(model)
    images, labels = _split_test_set(test_images)
    half_check = None
    if half:
        if images is None:
            raise HalfPrecisionRefused(
                f"not exporting float16 weights (--half): the {_data_set_title(model)} test set is not on this machine "
                "to check them on; make it available, or export the weights as float32"
            )
        half_check = check_half(model, images, progress)
    text = page_html(model, half=half, test_images=test_images, name=name, half_check=half_check)
    data = text.encode("utf-8")
    atomic_write(path, lambda f: f.write(data))
    n_shown = 0 if images is None else len(_handful(images, labels)[0])
    return WebExport(Path(path), len(data), "float16" if half else "float32", n_shown, half_check)


def page_html(
    model,
    *,
    half: bool = False,
    test_images: tuple[np.ndarray, np.ndarray] | None = None,
    name: str | None = None,
    half_check: HalfCheck | None = None,
) -> str:
    """The page's text (see ``export_html``; ``half`` here stores float16 without checking it)."""
    check_exportable(model)
    name = _text(name or (Path(model.path).stem if getattr(model, "path", None) else "model"))
    weights, layers, skip = _weights(model, np.float16 if half else np.float32)
    images, labels = _split_test_set(test_images)
    description = _description(model, name, layers, skip, images, labels, half, half_check, len(weights))
    style = _asset("page.css")
    scripts = [_asset(script) for script in SCRIPTS]
    csp = "; ".join([
        "default-src 'none'",
        "connect-src 'none'",
        "script-src " + " ".join(_hash(code) for code in scripts),
        "style-src " + _hash(style),
        "img-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ])  # fmt: skip
    values = {
        "csp": html.escape(csp, quote=False).replace('"', "&quot;"),
        "generator": html.escape(f"{GENERATOR} {__version__}"),
        "title": html.escape(f"{name} · Denoise Studio"),
        "style": style,
        "model_json": _script_json(description),
        "weights": base64.b64encode(weights).decode("ascii"),
        "scripts": "\n".join(f"<script>{code}</script>" for code in scripts),
    }
    template = _asset("page.html")
    mismatched = set(re.findall(r"\{\{(\w+)\}\}", template)) ^ set(values)
    if mismatched:  # a template and a builder out of step: a bug, not bad input
        raise RuntimeError(f"page.html and web_export disagree about {sorted(mismatched)}")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m[1]], template)


def is_html_export(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a page this package wrote (its generator tag near the top): what the CLI may replace
    without ``--force``."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.lstrip().lower().startswith(b"<!doctype html") and (
        f'<meta name="generator" content="{GENERATOR} '.encode() in head
    )


def _asset(name: str) -> str:
    """One of the page's files (package data ``engine/web``)."""
    text = (importlib.resources.files("engine") / "web" / name).read_text(encoding="utf-8")
    if name.endswith((".js", ".css")) and re.search(r"</(script|style)", text, re.I):
        raise RuntimeError(f"engine/web/{name} must not contain a closing </script> or </style>")
    return text


def _hash(code: str) -> str:
    """A CSP source allowing exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii") + "'"


def _script_json(value) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` (so no ``</script>``), no
    line separators; ASCII only."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _weights(model, dtype) -> tuple[bytes, list[dict], dict | None]:
    """Every layer's arrays, then the skip path's (a gate's), little-endian ``dtype``, one after another (the order
    of ``model.params``); each layer's spec with the shapes of its arrays in that order (``arrays``:
    ``[[name, shape], ...]``) and ``params``; the skip's spec likewise (None for a model without one)."""
    chunks = []

    def described(spec: dict, arrays: list[tuple[str, np.ndarray]]) -> dict:
        for _, array in arrays:
            chunks.append(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes())
        params = sum(int(array.size) for _, array in arrays)
        return {**spec, "params": params, "arrays": [[key, list(array.shape)] for key, array in arrays]}

    layers = [described(spec, WEB_LAYERS[spec["type"]](layer))
              for layer, spec in zip(model.layers, model.layer_specs(), strict=True)]  # fmt: skip
    skip = getattr(model, "skip", None)
    skip_spec = None if skip is None else described(skip.spec(), WEB_SKIPS[skip.kind](skip))
    return b"".join(chunks), layers, skip_spec


def _split_test_set(test_images) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(images (n, 784) uint8, labels (n,) or None) from what ``export_html`` was given; (None, None) for none."""
    if test_images is None:
        return None, None
    if isinstance(test_images, tuple) and len(test_images) == 2:
        images, labels = test_images
    else:
        images, labels = test_images, None
    images = np.asarray(images)
    if images.ndim < 2 or math.prod(images.shape[1:]) != N_PIXELS or len(images) == 0:
        raise WebExportError(f"test images must be (n, 784) or (n, 28, 28) with n >= 1, got shape {images.shape}")
    if images.dtype != np.uint8:
        images = np.clip(np.round(np.asarray(images, np.float64) * 255), 0, 255).astype(np.uint8)
    images = images.reshape(len(images), N_PIXELS)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise WebExportError(f"test labels must be ({len(images)},), one per image, got shape {labels.shape}")
    return images, labels


def _handful(images: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, list[int] | None]:
    """The first image of each class (in class order), or the first ``HANDFUL`` images when there are no labels."""
    if labels is None:
        return images[:HANDFUL], None
    picked = [int(np.flatnonzero(labels == c)[0]) for c in sorted(set(labels.tolist()))[:HANDFUL]]
    return images[picked], [int(labels[i]) for i in picked]


def _data_set_title(model) -> str:
    name = trained_on(model.metadata)
    return SOURCES[name].title if name in SOURCES else _text(name)


def _description(model, name, layers, skip, images, labels, half, half_check, weights_bytes) -> dict:
    """What the page shows and runs, as JSON-ready values (every string from the model file cut to ``MAX_TEXT``)."""
    data_set = trained_on(model.metadata)
    source = SOURCES.get(data_set)
    setting = model.training_noise
    test = None
    if images is not None:
        shown, shown_labels = _handful(images, labels)
        test = {
            "count": len(shown),
            "pixels": base64.b64encode(np.ascontiguousarray(shown, np.uint8).tobytes()).decode("ascii"),
            "labels": shown_labels,
        }
    return {
        "format": PAGE_FORMAT,
        "format_version": PAGE_FORMAT_VERSION,
        "name": name,
        "app_version": __version__,
        "exported": datetime.date.today().isoformat(),
        "precision": "float16" if half else "float32",
        "weights_bytes": weights_bytes,
        "n_params": sum(layer["params"] for layer in layers) + (skip["params"] if skip else 0),
        "layers": layers,
        "skip": skip,
        "brush": BRUSH,
        "noise": {
            "kind": setting.kind if setting else "gaussian",
            "level": round(setting.default_level, 4) if setting else 0.1,
            "trained": setting.describe() if setting else None,
        },
        "data_set": {
            "name": _text(data_set),
            "title": source.title if source else _text(data_set),
            "classes": list(source.classes) if source else [],
            "attribution": ATTRIBUTIONS.get(data_set, ""),
            "env": source.data_env if source else "",
        },
        "test_images": test,
        "training": _training_rows(model),
        "scores": _score_rows(model, half_check),
    }


def _text(value) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _text(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _training_rows(model) -> list[list[str]]:
    """[label, value] rows of how the model was trained (its file's ``training`` and ``dataset`` metadata)."""
    metadata = model.metadata if isinstance(model.metadata, dict) else {}
    training = metadata.get("training") if isinstance(metadata.get("training"), dict) else {}
    dataset = metadata.get("dataset") if isinstance(metadata.get("dataset"), dict) else {}
    rows = []
    data_set = trained_on(metadata)
    title = SOURCES[data_set].title if data_set in SOURCES else _text(data_set)
    size = dataset.get("train_size")
    rows.append(["Data set", f"{title}, {_number(size)} training images" if size else title])
    setting = model.training_noise
    if setting is not None:
        rows.append(["Noise", setting.describe() + (", each image its own level" if setting.is_range else "")])
    history = metadata.get("history") if isinstance(metadata.get("history"), dict) else {}
    epochs_run = [e for e in history.get("epochs", []) if isinstance(e, dict)] if history else []
    if "epochs" in training:
        done = len(epochs_run)
        planned = training["epochs"]
        rows.append(["Epochs", _number(planned) if not done or done == planned else f"{done} of {_number(planned)}"])
    if "batch_size" in training:
        rows.append(["Batch size", _number(training["batch_size"])])
    if "optimizer" in training:
        optimizer = _text(training["optimizer"])
        text = {"adam": "Adam", "sgd": "SGD"}.get(optimizer, optimizer)
        if "lr" in training:
            text += f", learning rate {_number(training['lr'])}"
        if optimizer == "sgd" and "momentum" in training:
            text += f", momentum {_number(training['momentum'])}"
        rows.append(["Optimizer", text])
    if "loss" in training:
        rows.append(["Loss", _text(training["loss"]).upper() if training["loss"] in ("mse", "bce") else
                     _text(training["loss"])])  # fmt: skip
    weighting = training.get("noise_weighting")  # TrainConfig.noise_weighting
    if isinstance(weighting, (int, float)) and not isinstance(weighting, bool):
        rows.append(["Loss weighting", f"each image's loss ÷ (its noise level² + {_number(weighting)})"])
    if "seed" in training:
        rows.append(["Seed", _number(training["seed"])])
    seconds = sum(e["seconds"] for e in epochs_run if isinstance(e.get("seconds"), (int, float)))
    if seconds > 0:
        rows.append(["Training time", f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"])
    known = {"epochs", "batch_size", "optimizer", "lr", "momentum", "loss", "seed", "noise", "noise_kind",
             "noise_weighting"}
    rows += [[_text(key), _number(value)] for key, value in training.items() if key not in known][:20]
    return rows


def _score_rows(model, half_check: HalfCheck | None) -> list[list[str]]:
    """[label, value] rows of the model's scores: its file's ``metrics``, its last epoch's test MSE, the float16
    check."""
    metadata = model.metadata if isinstance(model.metadata, dict) else {}
    rows = []
    metrics = metadata.get("metrics") if isinstance(metadata.get("metrics"), dict) else {}
    setting = model.training_noise
    kind = setting.kind if setting else "gaussian"
    for key, value in list(metrics.items())[:20]:
        match = re.fullmatch(r"test_(mse|psnr)@([0-9.]+)", str(key))
        label = f"Test {match[1].upper()} at {_level_text(kind, float(match[2]))}" if match else _text(key)
        rows.append([label, f"{value:.5f}" if isinstance(value, float) else _number(value)])
    history = metadata.get("history") if isinstance(metadata.get("history"), dict) else {}
    epochs = [e for e in history.get("epochs", []) if isinstance(e, dict)] if history else []
    if epochs and isinstance(epochs[-1].get("val_mse"), (int, float)):
        rows.append([f"Validation MSE after epoch {len(epochs)}", f"{epochs[-1]['val_mse']:.5f}"])
    if half_check is not None:
        what = half_check.worst[0]
        rows.append(["Float16 weights", f"test MSE within {half_check.worst_change:.3%} of float32 (worst at {what})"])
    return rows
