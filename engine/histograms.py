"""Histograms of every layer's weights and gradients while a network trains.

``HistogramSampler`` is a callback on the one Trainer loop.  The weights are copied whole at each
epoch's end (one vector copy an epoch).  The gradients change with every batch, so a histogram of
the last batch's alone would show one noisy moment; instead, on ``SAMPLED_BATCHES`` batches spread
evenly over the epoch, a strided slice of ``SAMPLE_SIZE`` entries of each layer's dL/dW is copied
(a different offset each time, so the samples cover the whole layer).  That costs a few
microseconds on one batch in several, which keeps the training loop's speed (``bench/histogram_cost.py``).
The binning runs elsewhere (``layer_histograms``), on whatever thread the caller likes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.callbacks import Callback

SAMPLED_BATCHES = 32
"""Batches an epoch whose gradients are sampled (all of them when the epoch has fewer)."""
SAMPLE_SIZE = 2048
"""Gradient entries taken from each layer on a sampled batch (all of them for a smaller layer)."""
BINS = 41
TAIL_PERCENTILE = 99.5
"""A histogram's range covers |values| up to this percentile; the few beyond land in the end bins."""
RANGE_SAMPLE = 1 << 13
"""Values (per array) the range is estimated from."""
DECADES = 6
"""Gradient sizes are binned over at most this many powers of ten below the largest (the rest in the first bin)."""
BIN_SAMPLE = 1 << 16
"""Values (per array) a histogram is made of: 65,536 evenly spread ones draw the same shape, and give the
same spread to the digits shown, as a layer's 200,000."""


@dataclass(frozen=True)
class LayerSnapshot:
    """What a network's layers look like at one moment of training (copies, safe to send to another thread).

    kind : "start" (training begins: no gradients yet), "epoch" (an epoch ended), "pause" (the run
        paused mid-epoch) or "model" (a model outside training, ``snapshot_of``).
    epoch : the epoch (from 0) the snapshot belongs to; for "start" the one before the first trained.
    progress : share of that epoch trained when it was taken (1.0 at its end).
    weights : per layer, its weight matrix W (n_out, n_in) float32.
    gradients : per layer, (m,) float32 samples of dL/dW over the epoch's batches so far; [] when none.
    batches : how many batches the gradient samples come from.
    names : per layer, the name views show it by (``MLP.named_parameter_layers``: "layer 1", …, "gate").

    The layers are every one the model learns: the network's, then a skip path's own (a gate's).
    """

    kind: str
    epoch: int
    progress: float
    weights: list[np.ndarray]
    gradients: list[np.ndarray]
    batches: int = 0
    names: tuple[str, ...] = ()

    @property
    def layer_names(self) -> list[str]:
        """``names``, or "layer 1", "layer 2", … for a snapshot made without them."""
        return list(self.names) if self.names else [f"layer {i + 1}" for i in range(len(self.weights))]


def _named_layers(model) -> list[tuple[str, object]]:
    """The layers a model learns, named (an ``MLP``'s gate too; a model without ``named_parameter_layers``: its
    ``layers``)."""
    named = getattr(model, "named_parameter_layers", None)
    return named() if callable(named) else [(f"layer {i + 1}", layer) for i, layer in enumerate(model.layers)]


def snapshot_of(model, epoch: int = -1) -> LayerSnapshot:
    """The weights of every layer the model learns now (copies; a gated skip path's too), without gradients."""
    names, layers = zip(*_named_layers(model), strict=True)
    return LayerSnapshot("model", epoch, 1.0, [layer.W.copy() for layer in layers], [], names=names)


class HistogramSampler(Callback):
    """Sends a ``LayerSnapshot`` through ``send`` at the start of training, at every epoch's end and on ``on_pause``.

    ``on_pause()`` is not a Trainer hook: whoever pauses the loop calls it (on the training thread),
    so a paused run shows the epoch so far.
    """

    def __init__(self, send: Callable[[LayerSnapshot], None]) -> None:
        self.send = send
        self._layers: list = []  # every layer the model learns (a gate's too)
        self._names: tuple[str, ...] = ()
        self._buffers: list[np.ndarray] = []  # per layer (SAMPLED_BATCHES, m) float32
        self._rows = 0
        self._every = 1
        self._epoch = 0
        self._progress = 0.0

    def on_train_begin(self, logs):
        names, layers = zip(*_named_layers(self.trainer.model), strict=True)
        self._names, self._layers = names, list(layers)
        self._buffers = [np.empty((SAMPLED_BATCHES, min(layer.W.size, SAMPLE_SIZE)), np.float32) for layer in layers]
        self._epoch = int(logs.get("initial_epoch", 0))
        self.send(self._snapshot("start", self._epoch - 1, 1.0))

    def on_epoch_begin(self, epoch):
        """How often to sample: every k-th batch, so that about SAMPLED_BATCHES spread over the epoch."""
        trainer = self.trainer
        batch = max(1, min(trainer.config.batch_size, trainer.n_samples))
        batches = -(-trainer.n_samples // batch)
        self._every = max(1, -(-batches // SAMPLED_BATCHES))
        self._rows, self._epoch, self._progress = 0, epoch, 0.0

    def on_batch_end(self, batch, logs):
        self._progress = logs["progress"]
        if batch % self._every or self._rows >= SAMPLED_BATCHES:
            return
        row = self._rows
        for layer, buf in zip(self._layers, self._buffers, strict=True):
            flat = layer.grad_W.reshape(-1)  # a view: grad_W is contiguous
            m = buf.shape[1]
            stride = flat.size // m
            offset = (row * 7919) % stride  # a different slice each time (7919: a prime)
            np.copyto(buf[row], flat[offset : offset + stride * m : stride])
        self._rows = row + 1

    def on_pause(self) -> None:
        self.send(self._snapshot("pause", self._epoch, self._progress))

    def on_epoch_end(self, epoch, logs):
        self.send(self._snapshot("epoch", epoch, float(logs.get("progress", 1.0))))

    def _snapshot(self, kind: str, epoch: int, progress: float) -> LayerSnapshot:
        rows = self._rows if kind != "start" else 0
        weights = [layer.W.copy() for layer in self._layers]
        gradients = [buf[:rows].reshape(-1).copy() for buf in self._buffers] if rows else []
        return LayerSnapshot(kind, epoch, progress, weights, gradients, rows, self._names)


@dataclass(frozen=True)
class Histogram:
    """One layer's values binned.

    Values that are exactly zero are counted apart (``zero``, their share): a layer's gradients hold
    many (the weights from always-black border pixels, units that are off for the whole batch), and
    a spike at 0 would flatten the shape of the rest.  ``edges`` (BINS + 1,); ``share`` (BINS,) of the
    non-zero values per bin (sums to 1); ``reference``/``reference_zero`` the same for the values
    compared with (None without); ``std`` and ``reference_std`` over all values, zeros included (for
    gradients, whose mean is about 0, that is their root-mean-square size).
    """

    edges: np.ndarray
    share: np.ndarray
    reference: np.ndarray | None
    std: float
    reference_std: float | None
    zero: float = 0.0
    reference_zero: float | None = None


def histogram(
    values: np.ndarray, reference: np.ndarray | None = None, bins: int = BINS, magnitude: bool = False
) -> Histogram | None:
    """``values`` (any shape) binned over a range that holds nearly all of them and of ``reference``
    (values outside count in the end bins; exact zeros apart); None when there are no values.

    Signed values (``magnitude=False``, weights) get a range symmetric around 0.  With ``magnitude=True``
    (gradients, whose sizes span orders of magnitude) the bins are of ``log10(|value|)``: ``edges`` are
    then powers of ten, and a distribution that moves left is one that shrinks.  Cheap enough to run
    after every epoch beside training: everything comes from an evenly strided sample of at most
    ``BIN_SAMPLE`` values of each array (the range from at most ``RANGE_SAMPLE``), the binning from one
    ``bincount``.
    """
    values = np.asarray(values, np.float32).reshape(-1)
    if values.size == 0:
        return None
    ref = None if reference is None or np.size(reference) == 0 else np.asarray(reference, np.float32).reshape(-1)
    values = _strided(values, BIN_SAMPLE)
    ref = None if ref is None else _strided(ref, BIN_SAMPLE)
    nonzero = values[values != 0]
    ref_nonzero = None if ref is None else ref[ref != 0]
    if magnitude:
        nonzero = np.log10(np.abs(nonzero))
        ref_nonzero = None if ref is None else np.log10(np.abs(ref_nonzero))
    sample = np.concatenate([_strided(v, RANGE_SAMPLE) for v in (nonzero, ref_nonzero) if v is not None])
    if magnitude:
        lo, hi = np.percentile(sample, [100 - TAIL_PERCENTILE, TAIL_PERCENTILE]) if sample.size else (0.0, 1.0)
        lo, hi = float(lo), float(hi) if hi > lo else float(lo) + 1.0
        lo = max(lo, hi - DECADES)  # far smaller sizes (rounding dust) would squeeze the rest: the first bin holds them
    else:
        hi = float(np.percentile(np.abs(sample), TAIL_PERCENTILE)) if sample.size else 1.0
        hi = hi if hi > 0 else 1.0
        lo = -hi
    edges = np.linspace(lo, hi, bins + 1)

    def shares(v: np.ndarray) -> np.ndarray:
        index = (v - np.float32(lo)) * np.float32(bins / (hi - lo))  # bin i holds [edges[i], edges[i + 1])
        index = np.clip(index, 0, bins - 1, out=index).astype(np.intp)
        return np.bincount(index, minlength=bins)[:bins] / max(v.size, 1)

    return Histogram(
        edges,
        shares(nonzero),
        None if ref is None else shares(ref_nonzero),
        float(np.std(values, dtype=np.float64)),
        None if ref is None else float(np.std(ref, dtype=np.float64)),
        1 - nonzero.size / values.size,
        None if ref is None else 1 - ref_nonzero.size / ref.size,
    )


def _strided(v: np.ndarray, most: int) -> np.ndarray:
    """About ``most`` values of ``v`` (all when it has fewer), evenly spread (a view)."""
    return v[:: max(1, v.size // most)]


def layer_histograms(
    snapshot: LayerSnapshot,
    start_weights: Sequence[np.ndarray] | None = None,
    first_gradients: Sequence[np.ndarray] | None = None,
) -> tuple[list[Histogram | None], list[Histogram | None]]:
    """Per layer, the weights' histogram (beside ``start_weights``, e.g. the run's first snapshot) and the
    gradients' sizes on a log scale (beside ``first_gradients``, e.g. the first epoch's); a gradient entry
    is None when the snapshot has none."""
    n = len(snapshot.weights)
    starts = list(start_weights) if start_weights is not None else [None] * n
    firsts = list(first_gradients) if first_gradients is not None else [None] * n
    if len(starts) != n or len(firsts) != n:
        raise ValueError(f"the references must have one entry per layer ({n})")
    weights = [histogram(w, s) for w, s in zip(snapshot.weights, starts, strict=True)]
    grads = snapshot.gradients if snapshot.gradients else [np.empty(0, np.float32)] * n
    gradients = [histogram(g, f, magnitude=True) for g, f in zip(grads, firsts, strict=True)]
    return weights, gradients
