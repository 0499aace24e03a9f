"""A training step split by units between this process and a worker process (tensor parallelism).

The data-parallel step (``steps.ProcessParallelStep``) gives each process half the batch; but a half costs ~63 % of
the whole step, since each half reads every weight, writes a whole gradient, and the two gradients must be added.
Here each process owns half the *output units* of every layer instead: its rows of each weight matrix (a
``Dense`` layer keeps ``W`` as (n_out, n_in), so they are contiguous in the parameter vector), their gradient and
their optimizer state.  Nothing is computed twice and nothing is summed across the processes:

* forward, layer j: ``z[lo:hi] = W[lo:hi] @ a`` — the share's units for the whole batch; the next layer needs all
  of ``a``, so the two shares meet after each layer;
* the loss on the share's output units (each process a partial sum; the two added in one order);
* backward, layer j: ``dW[lo:hi] = g[lo:hi] @ a.T`` (the share's rows), and the gradient of the layer's input for
  the share's units of the layer below, ``W[:, lo':hi'].T @ g``, which needs all of ``g``: they meet again;
* the optimizer's element-wise update (once both gradients are whole), in blocks of the parameter vector that each
  process claims as it goes: any split of an element-wise update gives the same bits.  Meanwhile this process makes
  the next batch's images (``overlaps_next_batch``), which the worker cannot: the training images are here.

Activations are kept unit-major, (units, batch), so a share's rows of every array are contiguous.  A step of an
L-layer network is 2L - 1 phases with a meeting after each; then the update.

When the worker does not take a part of the step (the other core busy, the worker still starting), this process runs
both shares itself; the split is fixed, so the bits are the same whoever runs what.  A part not offered to the worker
at all runs both shares at once (``UnitShare(None, ...)``): each product made whole wherever that gives the two
shares' bits (checked once a batch size has run alone ``CHECK_AFTER_STEPS`` times), so a step alone costs what a
serial step does.  When the worker keeps this process waiting (another program busy on a core), ``engine.contention``
says when to run steps alone.  If the worker dies, this process runs its share from the part's start (forward and
backward phases may run again: they write the same numbers); a block of the update that the worker began and did not
finish cannot, and stops the run.

For the ``with``, ``model.params``, ``model.grads`` and the optimizer's state vectors live in shared memory
(``engine.shared_memory``); after it they are back in arrays of their own.
"""

from __future__ import annotations

import contextlib
import copy
import mmap
import os
import pickle
import platform
import select
import struct
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from engine.contention import Contention
from engine.optimizers import update_blocks
from engine.shared_memory import (
    STOPPED_CHECK_S,
    Layout,
    Note,
    StoppedWatch,
    WorkerNotes,
    blas_threads,
    end_with_trainer,
    new_block,
    offsets_of,
    start_worker,
    stop_worker,
    views,
    warn,
)
from engine.subnormals import flush_subnormals, flushing

Prepare = Callable[[int, int], None]

TOKEN = struct.Struct("<qqqqd?")
"""A part of a step offered to the worker: its kind (``GRADIENTS``, or ``UPDATE``: one token a block), its number, the
batch's rows (or the update's block), the optimizer's step count, its rate, and whether the rows are weighted."""
GRADIENTS, UPDATE = 0, 1
MOST_BLOCKS = 96
"""An update is offered in at most this many blocks: 96 tokens of 41 bytes fit in PIPE_BUF (4096)."""
PHASE_STRIDE = 64
"""A part numbered ``p`` counts its meetings from ``p * PHASE_STRIDE``: a share that finished phase k of it has
``p * PHASE_STRIDE + k + 1`` in its counter."""
TRAINER, OFFERED, WORKER, READY_AT, MARKS_AT = 0, 1, 8, 9, 16
"""Slots of the shared control array (int64): each process's counter (on cache lines of their own), the number of
the part offered last, the worker's ready flag, and from ``MARKS_AT`` on the marks of the update's blocks (begun,
done) that the worker makes."""
BLOCK_STARTED, BLOCK_DONE = 1, 2
CHECK_AFTER_STEPS = 200
"""Steps of one batch size that this process runs alone (both shares) before it checks which products it can make
whole: made as the two shares', a step alone costs ~5-10 % more, and 200 such steps about what the check costs.  A
run whose worker takes its steps, a short stretch alone, an epoch's short last batch: none pays for the check."""
SAME_BITS_DRAWS = 16
SPREAD_EXPONENT = 16
"""``UnitShare`` checks each product, whole against split, on this many draws of random numbers, half of them spread
over 2^±16 (sums of 784 of them stay far from float32's range): ~60 ms for the large model (~120-170 ms with another
program busy), once per batch size."""
SPIN_S = 1e-3
"""How long a process waiting for the other (or the worker, for the next part) checks the shared counters before it
sleeps on a pipe: a meeting costs a few microseconds spinning and ~50-100 through a sleep and a wake-up."""


def splits(width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The two shares of a layer's ``width`` units: (0, width // 2) and (width // 2, width)."""
    return (0, width // 2), (width // 2, width)


def update_blocks_of(n: int) -> list[tuple[int, int]]:
    """The blocks ``(lo, hi)`` of an update of ``n`` parameters that the two processes claim: twice as many as
    ``update_blocks`` makes (each half as long), so the last one claimed keeps neither waiting long; at most
    ``MOST_BLOCKS`` (their tokens fit one write to a pipe) and none empty."""
    count = max(1, min(2 * (len(update_blocks(n)) - 1), MOST_BLOCKS, n))
    return [(n * i // count, n * (i + 1) // count) for i in range(count)]


STORES_IN_ORDER = platform.machine().lower() in ("x86_64", "amd64")
"""The meetings are counters in shared memory, written after the arrays they announce and read before them: on x86
each core's stores are seen by the other in the order they were made (TSO).  Processors with a weaker order (ARM)
would need fences that Python does not give, so there the step runs both shares here."""


def supports(model) -> bool:
    """Whether a model can be split by units: Dense layers without a skip path, every layer at least 2 wide."""
    return getattr(model, "skip", None) is None and bool(model.layers) and min(model.widths()) >= 2


class UnitShare:
    """One process's share of a step: units ``splits(width)[side]`` of every layer, on the shared arrays; or, for
    ``side`` None, both shares at once (this process alone), with the same bits (``bind``).

    arrays : "x" (rows, n_in), "clean" (rows, n_out), "weights" (rows,), "params"/"grads" (n_params,), "act{j}" and
    "grad{j}" (width_j * rows,): layer j's outputs and their gradient, unit-major; "losses" (2,) float64.
    """

    def __init__(
        self, side: int | None, model, loss, arrays: dict[str, np.ndarray], places: list[tuple[int, int]]
    ) -> None:
        """places: (offset of W, offset of b) of each layer in the parameter vector."""
        self.side, self.loss, self.arrays = side, loss, arrays
        self.widths = model.widths()
        self.activations = [copy.copy(layer.activation) for layer in model.layers]  # this share's own state
        for activation in self.activations:
            activation.out = activation.spare = None
        self.units = [(0, w) if side is None else splits(w)[side] for w in self.widths[1:]]  # (lo, hi) of its outputs
        params, grads = arrays["params"], arrays["grads"]
        self.W, self.b, self.dW, self.db = [], [], [], []
        for (w_at, b_at), n_in, n_out in zip(places, self.widths[:-1], self.widths[1:], strict=True):
            self.W.append(params[w_at : w_at + n_out * n_in].reshape(n_out, n_in))
            self.dW.append(grads[w_at : w_at + n_out * n_in].reshape(n_out, n_in))
            self.b.append(params[b_at : b_at + n_out])
            self.db.append(grads[b_at : b_at + n_out])
        self.n_phases = 2 * len(self.W) - 1
        self._rows = -1
        self._whole: dict[int, set[tuple[str, int]]] = {}  # rows -> the products made whole at that many rows
        self._bound: dict[int, int] = {}  # rows -> the steps bound at that many rows
        self._made_whole: set[tuple[str, int]] = set()

    def bind(self, rows: int, weighted: bool) -> None:
        """Views of the shared arrays for a batch of ``rows`` (each contiguous, whatever the batch).  Both shares at
        once make each product whole where it gives the two shares' products' bits, found here once
        ``CHECK_AFTER_STEPS`` steps of ``rows`` have been bound (a BLAS picks its kernel by the matrices' shapes:
        OpenBLAS's for small ones sums in another order); until then each product is made as the two shares' (the
        same bits, a little slower)."""
        self.weights = self.arrays["weights"][:rows] if weighted else None
        if rows != self._rows:
            self._rows = rows
            self.x, self.clean = self.arrays["x"][:rows], self.arrays["clean"][:rows]
            self.target = self.arrays["target"][: self.widths[-1] * rows].reshape(self.widths[-1], rows)
            self.act = [self.arrays[f"act{j}"][: w * rows].reshape(w, rows) for j, w in enumerate(self.widths[1:])]
            self.grad = [self.arrays[f"grad{j}"][: w * rows].reshape(w, rows) for j, w in enumerate(self.widths[1:])]
        if self.side is None:
            self._bound[rows] = bound = self._bound.get(rows, 0) + 1
            if bound == CHECK_AFTER_STEPS:
                self._whole[rows] = self._products_with_same_bits()
            self._made_whole = self._whole.get(rows, set())

    @property
    def checked_rows(self) -> list[int]:
        """The batch sizes at which the products were checked, whole against split."""
        return sorted(self._whole)

    def run(self, phase: int) -> None:
        """Phase 0..L-2: forward of layer ``phase``; L-1: the last layer's forward, the loss, its weight gradient;
        L..2L-2: the gradient of a layer's input (from all of the layer above's), then that layer's weights'."""
        last = len(self.W) - 1
        if phase < last:
            self._forward(phase)
        elif phase == last:
            self._forward(last)
            self._loss()
            self._weight_grad(last)
        else:
            j = last - (phase - last) + 1  # phase L -> the last layer's input gradient
            self._input_grad(j)
            self._weight_grad(j - 1)

    def _forward(self, j: int) -> None:
        lo, hi = self.units[j]
        z = self.act[j][lo:hi]  # (units, rows)
        self._product("forward", j)
        z += self.b[j][lo:hi, None]
        self.activations[j].forward(z)

    def _loss(self) -> None:
        """This share's part of the loss (its output units' share of the mean) and its gradient, dL/dz; both shares
        at once: each share's part, as the share would."""
        j = len(self.W) - 1
        for side, (lo, hi) in enumerate(splits(self.widths[-1])):
            if self.side not in (None, side):
                continue
            share = (hi - lo) / self.widths[-1]
            target = self.target[lo:hi]  # (units, rows): the clean pixels, turned unit-major here
            np.copyto(target, self.clean[:, lo:hi].T)
            weights = None if self.weights is None else self.weights[None, :]  # (1, rows): one a column
            value, _ = self.loss.value_and_grad(self.act[j][lo:hi], target, out=self.grad[j][lo:hi],
                                                weights=weights, scale=share)  # fmt: skip
            self.arrays["losses"][side] = value * share
        lo, hi = self.units[j]
        self.activations[j].backward(self.grad[j][lo:hi])

    def _weight_grad(self, j: int) -> None:
        self._product("weights", j)

    def _input_grad(self, j: int) -> None:
        """dL/dz of layer j-1's units of this share, from all of layer j's dL/dz."""
        self._product("input", j)
        lo, hi = self.units[j - 1]
        self.activations[j - 1].backward(self.grad[j - 1][lo:hi])

    def _product(self, kind: str, j: int) -> None:
        """Layer j's matrix product of ``kind`` for this share's units (of layer j-1 for "input"); both shares at
        once: one product where it has the same bits as the two, else the two."""
        units = j - 1 if kind == "input" else j
        if self.side is not None or (kind, j) in self._made_whole:
            self._product_rows(kind, j, *self.units[units])
        else:
            for lo, hi in splits(self.widths[units + 1]):
                self._product_rows(kind, j, lo, hi)

    def _product_rows(self, kind: str, j: int, lo: int, hi: int) -> None:
        """forward: layer j's outputs ``lo:hi``; weights: the gradient of its weights (and biases) of outputs
        ``lo:hi``; input: the gradient of its inputs ``lo:hi`` (layer j-1's units), before their activation's."""
        if kind == "forward":
            np.matmul(self.W[j][lo:hi], self.x.T if j == 0 else self.act[j - 1], out=self.act[j][lo:hi])
        elif kind == "weights":
            g = self.grad[j][lo:hi]  # dL/dz, (units, rows)
            np.matmul(g, self.x if j == 0 else self.act[j - 1].T, out=self.dW[j][lo:hi])
            np.sum(g, axis=1, out=self.db[j][lo:hi])
        else:
            np.matmul(self.W[j][:, lo:hi].T, self.grad[j], out=self.grad[j - 1][lo:hi])

    def _products_with_same_bits(self) -> set[tuple[str, int]]:
        """The products ``(kind, j)`` that give, made whole, the two shares' bits: each made both ways on arrays of
        its own, shaped, laid out and aligned as the step's (which it leaves as they are), on ``SAME_BITS_DRAWS``
        draws of numbers of the arrays' dtype: half of them plain normal numbers (where a multiply-add fused on one
        side only shows), half with exponents spread over ±``SPREAD_EXPONENT`` (where a sum in another order
        shows).  A kernel that differs from the other only at a tile's edge matches it on some draws: on the machines
        measured, each draw of either kind caught such a difference at least 70 % of the time."""
        rng = np.random.default_rng(0)
        size = max(array.size for array in (self.x, *self.act, *self.grad, *self.W))
        pools = (rng.standard_normal(2 * size).astype(self.x.dtype), _spread(rng, (2 * size,), self.x.dtype))
        kept = self.x, self.act, self.grad, self.W, self.dW, self.db
        self.x = _aligned_like(self.x)
        self.act, self.grad, self.W, self.dW, self.db = (
            [_aligned_like(array) for array in arrays] for arrays in (self.act, self.grad, self.W, self.dW, self.db)
        )
        same = {(kind, j) for j in range(len(self.W)) for kind in ("forward", "weights", "input")[: 3 if j else 2]}
        try:
            for draw in range(SAME_BITS_DRAWS):
                pool = pools[draw % 2]  # each array a window of it at a random offset
                for array in (self.x, *self.act, *self.grad, *self.W):
                    start = rng.integers(0, pool.size - array.size + 1)
                    array[...] = pool[start : start + array.size].reshape(array.shape)
                for kind, j in sorted(same):
                    units = j - 1 if kind == "input" else j
                    outputs = {"forward": [self.act[j]], "weights": [self.dW[j], self.db[j]],
                               "input": [self.grad[j - 1]]}[kind]  # fmt: skip
                    self._product_rows(kind, j, 0, self.widths[units + 1])
                    whole = [_bits(out).copy() for out in outputs]
                    for lo, hi in splits(self.widths[units + 1]):
                        self._product_rows(kind, j, lo, hi)
                    if not all(np.array_equal(a, _bits(out)) for a, out in zip(whole, outputs, strict=True)):
                        same.discard((kind, j))
        finally:
            self.x, self.act, self.grad, self.W, self.dW, self.db = kept
        return same


class TensorParallelStep:
    """Forward, loss, backward and ``optimizer``'s update, each layer's units split between this process and a
    worker process (or run here, both shares, when the worker does not take a part).  The same bits whoever runs
    what; the same numbers as a serial step up to rounding.

    model : an ``MLP`` that ``supports`` allows; loss : ``value_and_grad``; optimizer : its update runs in the
    shares (another optimizer's, given to ``update``, runs here on the whole vector).
    """

    overlaps_next_batch = True
    """``update`` runs its ``meanwhile`` (the trainer's next batch of images) while the worker updates."""

    def __init__(
        self,
        model,
        loss,
        batch_size: int,
        optimizer=None,
        processes: int = 2,
        contention: Contention | None = None,
        note: Note = warn,
    ) -> None:
        """processes: 2, this one and a worker (on x86: ``STORES_IN_ORDER``); 1, both shares here (the same bits).
        contention: when steps run here alone (a ``Contention()`` of its own by default); note: tells the user that
        the run continues on one core (the worker did not start, or ended)."""
        if not supports(model):
            raise ValueError("a step split by units needs Dense layers without a skip path, each at least 2 wide")
        if processes not in (1, 2):
            raise ValueError(f"a step split by units runs in 1 or 2 processes, got {processes!r}")
        self.model, self.loss, self.batch_size, self.optimizer = model, loss, batch_size, optimizer
        self.notes = WorkerNotes(note)
        self.processes = processes if STORES_IN_ORDER else 1
        self._shares: tuple[UnitShare, UnitShare] | None = None
        self._both: UnitShare | None = None  # both shares at once: the steps this process runs alone
        self._arrays: dict[str, np.ndarray] | None = None
        self._own_vectors: tuple[np.ndarray, np.ndarray] | None = None
        self._shared_state: dict[str, np.ndarray] = {}
        self._worker: subprocess.Popen | None = None
        self._worker_gone = False  # its wake-up pipe has no reader: it has ended
        self._untaken: StoppedWatch | None = None  # the worker's parts left untaken: is it stopped?
        self._fds: dict[str, int] = {}
        self._part = 0
        self._contention = contention if contention is not None else Contention()
        self.worker_parts = 0
        """How many parts of steps (gradients, updates) the worker took: benchmarks and tests read it."""

    # ----- the run's start and end ----------------------------------------------------------------------------
    def __enter__(self) -> TensorParallelStep:
        try:
            self._share(start=self.processes == 2, private=self.processes == 1)
        except OSError as exc:  # no shared memory, no process: the run goes on, both shares here
            self._stop_worker()
            self._unshare()
            self._share(start=False, private=True)
            self.notes.note(f"training runs on one core: its worker process did not start ({exc})")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._stop_worker()
        finally:
            self._unshare()

    def wait_until_ready(self, timeout: float) -> bool:
        """Wait, between steps, until the worker takes parts (until then this process runs them): False when it is
        not running or not ready within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._worker is not None and not self._control[READY_AT]:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self._sleep_on(self._fds["done_r"], left):
                self._worker_ended()
                return False
        return self._worker is not None

    def _share(self, start: bool, private: bool = False) -> None:
        """Move the weights, gradients and optimizer state into one block (shared memory, or this process's own when
        ``private``), make both shares, and start the worker."""
        model, optimizer, rows = self.model, self.optimizer, self.batch_size
        self._contention.reset()
        dtype, vector = model.params.dtype.str, (model.n_params,)
        state_names = optimizer.state_vectors if optimizer is not None else ()
        places = [(_offset(layer.W, model.params), _offset(layer.b, model.params)) for layer in model.layers]
        self._blocks = update_blocks_of(model.n_params)
        layout: Layout = {"params": (vector, dtype), "grads": (vector, dtype),
                          **{name: (vector, dtype) for name in state_names},
                          "x": ((rows, model.n_in), dtype), "clean": ((rows, model.n_out), dtype),
                          "weights": ((rows,), dtype), "target": ((model.n_out * rows,), dtype),
                          "losses": ((2,), "<f8"),
                          "control": ((MARKS_AT + len(self._blocks),), "<i8"),
                          **{f"{kind}{j}": ((w * rows,), dtype) for j, w in enumerate(model.widths()[1:])
                             for kind in ("act", "grad")}}  # fmt: skip
        offsets, end = offsets_of(layout)
        if private:
            memory, memory_fd = mmap.mmap(-1, end), None
        else:
            blueprint = pickle.dumps(
                {"model": model.replica(), "loss": self.loss, "optimizer": optimizer, "errstate": np.geterr(),
                 "flush": flushing(), "blas_threads": blas_threads(), "layout": layout, "offsets": offsets,
                 "places": places},  # fmt: skip
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            memory, memory_fd = new_block(end + len(blueprint))
            memory[end:] = blueprint
        try:
            shared = views(memory, layout, offsets)
            self._own_vectors = (model.params, model.grads)
            model.move_vectors(shared["params"], shared["grads"])
            if state_names:
                self._shared_state = {name: shared[name] for name in state_names}
                optimizer.place_state(self._shared_state)
            self._arrays, self._control = shared, shared["control"]
            self._shares = tuple(UnitShare(side, model, self.loss, shared, places) for side in (0, 1))
            self._both = UnitShare(None, model, self.loss, shared, places)
            if not start or private:
                return
            fds = self._fds
            fds["task_r"], fds["task_w"] = os.pipe()  # parts offered: read by both, without blocking
            os.set_blocking(fds["task_r"], False)
            os.set_blocking(fds["task_w"], False)
            fds["wake_r"], fds["wake_w"] = os.pipe()  # bytes that wake the worker: a part offered, a phase done here
            os.set_blocking(fds["wake_w"], False)  # full: the worker has bytes enough to wake (or is stopped)
            fds["done_r"], fds["done_w"] = os.pipe()  # bytes that wake this process: a phase done there
            os.set_blocking(fds["done_r"], False)
            passed = (memory_fd, fds["task_r"], fds["wake_r"], fds["done_w"])
            self._worker = start_worker("engine.tensor_parallel", passed, end, len(blueprint))
            self._untaken = StoppedWatch(self._worker, lambda: False, self.notes.note)
        finally:
            if memory_fd is not None:
                os.close(memory_fd)
            for name in ("wake_r", "done_w"):  # the worker's ends: closed here, so each side sees the other end
                if name in self._fds:
                    os.close(self._fds.pop(name))

    def _unshare(self) -> None:
        """The weights and gradients back in the model's own vectors, the optimizer's state in arrays of its own."""
        if self._own_vectors is not None:
            np.copyto(self._own_vectors[1], self.model.grads)  # (the last step's gradient, as after a serial run)
            self.model.move_vectors(*self._own_vectors)
            self._own_vectors = None
        if self._shared_state:
            self.optimizer.place_state({name: np.empty_like(a) for name, a in self._shared_state.items()})
            self._shared_state = {}
        self._shares = self._both = self._arrays = None  # (the block is unmapped with its last view)

    def _stop_worker(self) -> None:
        """Close the pipes (the worker exits after the phase it is running) and wait for it."""
        worker, self._worker = self._worker, None
        self._worker_gone, self._untaken = False, None
        stop_worker(worker, self._fds)

    def _worker_ended(self) -> None:
        """The worker ended on its own (killed, out of memory): both shares run here from now on; the user hears
        why the run is slower (``WorkerNotes``)."""
        worker = self._worker
        self._stop_worker()
        self.notes.ended(worker)

    def _end_stopped_worker(self) -> None:
        """The worker has been stopped too long in the middle of a part, or between parts (``StoppedWatch``): it is
        ended (SIGKILL ends a stopped process too), and from then on it is as if it had ended on its own."""
        worker = self._worker
        self._kill_worker()
        self.notes.ended(worker, stopped=True)

    @property
    def checked_rows(self) -> list[int]:
        """The batch sizes at which the steps run here alone had their products checked, whole against split
        (``UnitShare.bind``): tests and benchmarks read it."""
        return self._both.checked_rows if self._both is not None else []

    # ----- a step ---------------------------------------------------------------------------------------------
    def gradients(
        self,
        noisy: np.ndarray,
        clean: np.ndarray,
        weights: np.ndarray | None = None,
        prepare: Prepare | None = None,
    ) -> float:
        """noisy, clean: (batch, n_pixels) float32; weights: (batch,) or None -> the batch's mean loss; fills
        ``model.grads``.  ``prepare``, if given, fills the rows of ``noisy`` and ``clean`` first."""
        if self._worker is not None and self._contention.alone and self._worker.poll() is not None:
            self._worker_ended()  # (alone, the pipes that would tell are not used)
        self.notes.say_held()
        started, started_cpu = time.perf_counter(), time.thread_time()
        n = len(noisy)
        if prepare is not None:
            prepare(0, n)
        arrays = self._arrays
        np.copyto(arrays["x"][:n], noisy)
        np.copyto(arrays["clean"][:n], clean)
        if weights is not None:
            np.copyto(arrays["weights"][:n], weights)
        for share in self._shares:
            share.bind(n, weights is not None)
        self._gradients_together(n, weights is not None, started, started_cpu)
        losses = arrays["losses"]
        return float(losses[0] + losses[1])

    def update(self, optimizer, meanwhile: Callable[[], None] | None = None) -> None:
        """The optimizer's element-wise update, in blocks that this process and the worker claim as they go (any
        split gives the same bits); ``meanwhile()`` (the next batch's images) runs here first, while the worker
        updates.  An error in ``meanwhile`` is raised once the update is whole."""
        if optimizer is not self.optimizer:
            optimizer.step(self.model.params, self.model.grads)
            self._contention.step_done()
            _call(meanwhile)
            return
        started, started_cpu = time.perf_counter(), time.thread_time()
        update = optimizer.prepare_step(self.model.params, self.model.grads)
        blocks, marks = self._blocks, self._control[MARKS_AT:]
        marks[:] = 0
        offered, failed = False, None
        try:
            if self._worker is not None and not self._contention.alone:
                offered = self._offer([(UPDATE, i, optimizer.t, optimizer.lr, False) for i in range(len(blocks))])
            try:
                _call(meanwhile)
            except BaseException as exc:  # (the update is finished first: weights half updated would be no one's)
                failed = exc
            if not offered:  # (in the blocks of a step on one core: the split never changes the bits)
                bounds = update_blocks(self.model.n_params)
                for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                    update(lo, hi)
            else:
                here = set()
                while (i := self._take_back()) is not None:
                    update(*blocks[i])
                    here.add(i)
                theirs = [i for i in range(len(blocks)) if i not in here]
                began, began_cpu = time.perf_counter(), time.thread_time()
                if not self._wait_for_worker(lambda: all(marks[i] == BLOCK_DONE for i in theirs)):
                    for i in theirs:  # it ended: what it had not begun runs here
                        if marks[i] == BLOCK_STARTED:
                            raise RuntimeError(
                                "the training step's worker process ended while it updated the weights, which are "
                                "no longer exact; resume from the last checkpoint"
                            )
                    for i in theirs:
                        if marks[i] != BLOCK_DONE:
                            update(*blocks[i])
                self.worker_parts += bool(theirs)
                self._add_part(started, started_cpu, time.perf_counter() - began, time.thread_time() - began_cpu)
                self._watch_untaken(bool(theirs))
        except BaseException:
            if offered:  # it may hold a block of this update: it must not write on after this
                self._kill_worker()
            raise
        finally:
            self._contention.step_done()
        if failed is not None:
            raise failed

    def _gradients_together(self, rows: int, weighted: bool, started: float, started_cpu: float) -> None:
        """Phases ``0..count-1`` of both shares for a batch of ``rows``: with the worker, meeting it after each, when
        it takes the part; when it is not offered, both at once here; else (or from where it ended) both here, phase
        by phase."""
        shares, count = self._shares, self._shares[0].n_phases
        offered = together = False
        wait_wall = wait_cpu = 0.0
        try:
            if self._worker is not None and not self._contention.alone:
                offered = self._offer([(GRADIENTS, rows, 0, 0.0, weighted)])
            if not offered:  # (bound only here: its steps count towards the check of its products)
                self._both.bind(rows, weighted)
                for k in range(count):
                    self._both.run(k)
                return
            base = self._part * PHASE_STRIDE
            shares[0].run(0)
            self._arrive(base + 1)
            together = self._take_back() is None
            self.worker_parts += together
            self._watch_untaken(together)
            for k in range(1, count + 1):
                if together:
                    began, began_cpu = time.perf_counter(), time.thread_time()
                    met = self._wait_for_worker(lambda k=k: self._control[WORKER] >= base + k)
                    wait_wall += time.perf_counter() - began
                    wait_cpu += time.thread_time() - began_cpu
                    if not met:  # it ended: its share of this part so far, here (the same numbers again)
                        together = False
                        for j in range(k):
                            shares[1].run(j)
                else:
                    shares[1].run(k - 1)
                if k < count:
                    shares[0].run(k)
                    if together:
                        self._arrive(base + k + 1)
        except BaseException:
            if offered:  # it may still be in this part: it must not write what this process uses next
                self._kill_worker()
            raise
        if offered:
            self._add_part(started, started_cpu, wait_wall, wait_cpu)

    def _add_part(self, started: float, started_cpu: float, wait_wall: float, wait_cpu: float) -> None:
        """Tell ``Contention`` what a part cost: working (wall, CPU) and waiting for the worker."""
        self._contention.add(time.perf_counter() - started - wait_wall, time.thread_time() - started_cpu - wait_cpu,
                             wait_wall)  # fmt: skip

    # ----- meeting the worker -----------------------------------------------------------------------------------
    def _offer(self, tokens: list[tuple]) -> bool:
        """Offer the worker a part: tokens ``(kind, rows or block, t, lr, weighted)``, in one write that never blocks
        and that the pipe keeps whole (at most ``MOST_BLOCKS`` tokens: under PIPE_BUF, 4096 bytes, which even a
        pipe of one page holds).  False: no room (nothing was written), or the worker has ended (found as it was
        last woken), the part runs here."""
        if self._worker_gone:
            self._worker_ended()
            return False
        self._part += 1
        try:
            os.write(self._fds["task_w"], b"".join(TOKEN.pack(kind, self._part, *rest) for kind, *rest in tokens))
        except BlockingIOError:
            return False
        self._control[OFFERED] = self._part
        self._wake_worker()
        return True

    def _watch_untaken(self, taken: bool) -> None:
        """After the worker was offered a part: ended if it left the parts untaken while stopped for ``STOPPED_S``
        (it holds nothing; the steps then run here alone, faster than by taking each part back)."""
        if self._untaken is None:
            return
        if taken:
            self._untaken.taken()
        elif self._untaken.left_untaken():
            self._end_stopped_worker()

    def _take_back(self) -> int | None:
        """Take back a token of the part just offered, unless the worker has taken them all: its third number (the
        block of an update), or None."""
        while True:
            try:
                token = os.read(self._fds["task_r"], TOKEN.size)
            except BlockingIOError:
                return None
            _, part, number, *_ = TOKEN.unpack(token)
            if part == self._part:  # (one of an interrupted part's: not to run)
                return number

    def _arrive(self, value: int) -> None:
        self._control[TRAINER] = value
        self._wake_worker()

    def _wake_worker(self) -> None:
        try:
            os.write(self._fds["wake_w"], b"\0")
        except BlockingIOError:  # it has bytes enough to wake on (or is stopped)
            pass
        except BrokenPipeError:  # it has ended: found at the next wait, or as the next part is offered
            self._worker_gone = True

    def _wait_for_worker(self, done: Callable[[], bool]) -> bool:
        """Wait until ``done()``: False if the worker ended first."""
        if done():
            return True
        spin_until = time.perf_counter() + SPIN_S
        while time.perf_counter() < spin_until:
            if done():
                return True
        marks = self._control[MARKS_AT:]
        watch = StoppedWatch(self._worker, lambda: bool((marks == BLOCK_STARTED).any()), self.notes.note)
        while not done():
            if not self._sleep_on(self._fds["done_r"], STOPPED_CHECK_S, done):
                self._worker_ended()
                return False
            if not done() and watch.too_long():  # (it holds its share of a phase: it would never end)
                self._end_stopped_worker()
                return False
        return True

    def _sleep_on(self, fd: int, timeout: float | None, done: Callable[[], bool] = lambda: False) -> bool:
        """Sleep until a byte comes on ``fd`` (``timeout`` seconds at most): False when its writer has ended."""
        if not _drain(fd):
            return False
        if done():
            return True
        readable, _, _ = select.select([fd], [], [], timeout)
        return not readable or _drain(fd)

    def _kill_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
        self._stop_worker()


def _call(work: Callable[[], None] | None) -> None:
    if work is not None:
        work()


def _offset(view: np.ndarray, vector: np.ndarray) -> int:
    """Where ``view`` starts in ``vector`` (elements)."""
    return (view.__array_interface__["data"][0] - vector.__array_interface__["data"][0]) // vector.itemsize


def _spread(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Random numbers of ``dtype`` with full mantissas and exponents spread over ±``SPREAD_EXPONENT``."""
    return (rng.standard_normal(shape) * np.exp2(rng.integers(-SPREAD_EXPONENT, SPREAD_EXPONENT + 1, shape))).astype(
        dtype
    )


def _aligned_like(array: np.ndarray, boundary: int = 4096) -> np.ndarray:
    """An empty C-contiguous array shaped as ``array`` that starts at the same offset from a ``boundary``-byte
    boundary (a BLAS may take another path for another alignment)."""
    memory = np.empty(array.nbytes + boundary, np.uint8)
    start = (array.__array_interface__["data"][0] - memory.__array_interface__["data"][0]) % boundary
    return memory[start : start + array.nbytes].view(array.dtype).reshape(array.shape)


def _bits(array: np.ndarray) -> np.ndarray:
    """The array's numbers as unsigned integers of their size: equal only when every bit is."""
    return array.view(f"u{array.itemsize}")


def _drain(fd: int) -> bool:
    """Read every byte waiting on a non-blocking pipe: False when its writer has ended."""
    while True:
        try:
            if not os.read(fd, 4096):
                return False
        except BlockingIOError:
            return True


# ----- the worker's side ---------------------------------------------------------------------------------------
def serve(
    memory_fd: int, task_r: int, wake_r: int, done_w: int, blueprint_at: int, blueprint_size: int, trainer: int
) -> None:
    """Run the other share of each part it takes, meeting the trainer after each phase, until the pipes close."""
    from threadpoolctl import threadpool_limits

    end_with_trainer(trainer)
    memory = mmap.mmap(memory_fd, blueprint_at + blueprint_size)
    os.close(memory_fd)
    blueprint = pickle.loads(memory[blueprint_at : blueprint_at + blueprint_size])
    shared = views(memory, blueprint["layout"], blueprint["offsets"])
    model, optimizer = blueprint["model"], blueprint["optimizer"]
    model.move_vectors(shared["params"], shared["grads"], copy_values=False)
    if optimizer is not None:
        optimizer.place_state({name: shared[name] for name in optimizer.state_vectors}, copy_values=False)
    share = UnitShare(1, model, blueprint["loss"], shared, blueprint["places"])
    control = shared["control"]
    marks, blocks = control[MARKS_AT:], update_blocks_of(shared["params"].size)
    os.set_blocking(wake_r, False)
    os.set_blocking(done_w, False)  # full: the trainer has bytes enough to wake on (it drains them when it sleeps)

    def arrive(value: int) -> None:
        control[WORKER] = value
        with contextlib.suppress(BlockingIOError):
            os.write(done_w, b"\0")

    def wait_for_trainer(value: int, part: int) -> bool:
        """False: the trainer has ended, or moved on from this part (it runs the rest of it)."""
        spin_until = time.perf_counter() + SPIN_S
        while True:
            now = control[TRAINER]  # (read once: both tests on one value)
            if now >= (part + 1) * PHASE_STRIDE:
                return False
            if now >= value:
                return True
            if time.perf_counter() > spin_until:
                if not _drain(wake_r):
                    return False
                if control[TRAINER] < value:
                    select.select([wake_r], [], [], 1.0)

    control[READY_AT] = 1
    os.write(done_w, b"\0")
    with (
        threadpool_limits(limits=blueprint["blas_threads"], user_api="blas"),
        np.errstate(**blueprint["errstate"]),
        flush_subnormals(blueprint["flush"]),
    ):
        seen = 0
        while True:
            try:
                token = os.read(task_r, TOKEN.size)
            except BlockingIOError:  # none yet: watch for the next part a while, then sleep
                spin_until = time.perf_counter() + SPIN_S
                while control[OFFERED] == seen and time.perf_counter() < spin_until:
                    pass
                if control[OFFERED] != seen:
                    seen = control[OFFERED]
                    continue  # a part was offered: read its tokens
                if not _drain(wake_r):
                    return  # the step has ended
                if control[OFFERED] == seen:  # (a part offered after the drain writes a byte after it)
                    select.select([wake_r], [], [], 1.0)
                continue
            if not token:
                return  # the step has ended
            kind, part, number, t, lr, weighted = TOKEN.unpack(token)
            if part < control[OFFERED]:
                continue  # an interrupted part's
            base = part * PHASE_STRIDE
            if kind == GRADIENTS:
                share.bind(number, weighted)
                for k in range(share.n_phases):
                    if k and not wait_for_trainer(base + k, part):
                        break
                    share.run(k)
                    arrive(base + k + 1)
            else:
                optimizer.t, optimizer.lr = t - 1, lr  # as the trainer's optimizer was before this step
                update = optimizer.prepare_step(shared["params"], shared["grads"])
                marks[number] = BLOCK_STARTED
                update(*blocks[number])
                marks[number] = BLOCK_DONE
                with contextlib.suppress(BlockingIOError):
                    os.write(done_w, b"\0")


if __name__ == "__main__":
    from engine import tensor_parallel  # the module itself, not this copy run as __main__: one UnitShare class

    with contextlib.suppress(BrokenPipeError):  # the step ended as this answered
        tensor_parallel.serve(*map(int, sys.argv[1:]))
