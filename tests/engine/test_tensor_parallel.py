"""The step with each layer's units split between two processes: the serial step's numbers up to rounding, the same
bits whoever runs each share, a worker that ends at any point, and nothing left running or in shared memory."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine import tensor_parallel
from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.contention import Contention
from engine.layers import Dense
from engine.losses import MSE, BinaryCrossEntropy
from engine.nn import MLP, build_mlp
from engine.optimizers import SGD, Adam
from engine.steps import SerialStep
from engine.tensor_parallel import CHECK_AFTER_STEPS, TensorParallelStep, supports
from engine.training import TrainConfig, Trainer
from tests.engine.worker_faults import DIE_AFTER_AN_UPDATE_BLOCK, children, in_worker

READY_S = 120.0
"""How long a test waits for the worker process to start (it imports NumPy; a loaded CI machine is slow)."""


def _batches(count: int, rows: int, n_in: int = 784, n_out: int = 784, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [(rng.random((rows, n_in), dtype=np.float32), rng.random((rows, n_out), dtype=np.float32))
            for _ in range(count)]  # fmt: skip


def _train(step, optimizer, batches, weights=None) -> list[float]:
    losses = []
    for noisy, clean in batches:
        w = None if weights is None else weights[: len(noisy)]
        losses.append(step.gradients(noisy.copy(), clean, w))
        step.update(optimizer)
    return losses


@pytest.mark.parametrize(
    ("widths", "activations", "loss", "weighted"),
    [
        ([784, 256, 64, 256, 784], ["relu", "relu", "relu", "sigmoid"], MSE(), False),
        ([784, 256, 64, 256, 784], ["relu", "relu", "relu", "sigmoid"], MSE(), True),
        ([785, 7, 33, 785], ["tanh", "leaky_relu", "linear"], MSE(), True),  # odd widths: unequal shares
        ([50, 3, 50], ["sigmoid", "sigmoid"], BinaryCrossEntropy(), True),
        ([20, 2, 20], ["relu", "linear"], MSE(), False),  # a share of one unit
    ],
)
def test_split_units_give_the_serial_steps_loss_and_gradient(widths, activations, loss, weighted):
    """Every parameter's gradient, and the loss, as a serial step computes them (up to float32 rounding); a last
    batch shorter than the others too."""
    rng = np.random.default_rng(3)
    model = build_mlp(widths, activations, seed=2)
    twin = model.copy()
    batch = 24
    weights = rng.uniform(0.5, 2, batch).astype(np.float32) if weighted else None
    with TensorParallelStep(model, loss, batch, SGD(lr=0.1), processes=1) as split:
        for rows in (batch, 9):
            noisy = rng.random((rows, widths[0]), dtype=np.float32)
            clean = rng.random((rows, widths[-1]), dtype=np.float32)
            w = None if weights is None else weights[:rows]
            value = split.gradients(noisy, clean, w)
            expected = SerialStep(twin, loss, batch).gradients(noisy, clean, w)
            assert value == pytest.approx(expected, rel=1e-5)
            np.testing.assert_allclose(model.grads, twin.grads, rtol=2e-4, atol=1e-7 * np.abs(twin.grads).max())
            assert np.abs(model.grads).max() > 0


def test_models_it_cannot_split_are_refused():
    gated = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=0, skip="gate")
    narrow = build_mlp([784, 1, 784], ["relu", "sigmoid"], seed=0)
    assert not supports(gated) and not supports(narrow)
    with pytest.raises(ValueError, match="without a skip path"):
        TensorParallelStep(gated, MSE(), 8)


@pytest.mark.parametrize("optimizer_kind", [Adam, lambda lr: SGD(lr=lr, momentum=0.9)])
def test_two_processes_give_the_bits_of_one_before_and_after_the_worker_is_ready(optimizer_kind):
    """The first steps run here (the worker is still starting), the later ones with the worker: every number is
    what one process computes alone — the loss, the weights and the optimizer's state."""
    first = build_mlp([784, 100, 40, 784], ["relu", "tanh", "sigmoid"], seed=4)
    batches = _batches(5, rows=33)
    weights = np.random.default_rng(2).uniform(0.5, 2, 33).astype(np.float32)
    model, optimizer = first.copy(), optimizer_kind(lr=0.01)
    with TensorParallelStep(model, MSE(), 33, optimizer, contention=Contention.never()) as step:
        losses = _train(step, optimizer, batches[:2], weights)
        assert step.wait_until_ready(READY_S), "the worker process did not start"
        while step.worker_parts < 6 and len(losses) < 1000:  # (on a loaded machine it may lose races, never all)
            losses += _train(step, optimizer, [batches[len(losses) % 5]], weights)
        assert step.worker_parts >= 6
    alone, alone_optimizer = first.copy(), optimizer_kind(lr=0.01)
    with TensorParallelStep(alone, MSE(), 33, alone_optimizer, processes=1) as step:
        expected = _train(step, alone_optimizer, [batches[i % 5] for i in range(len(losses))], weights)
    assert losses == expected
    assert not np.array_equal(model.params, first.params)
    np.testing.assert_array_equal(model.params, alone.params)
    for name in optimizer.state_vectors:
        np.testing.assert_array_equal(getattr(optimizer, name), getattr(alone_optimizer, name))


def _model(widths: list[int], activations: list[str], dtype=np.float32, seed: int = 5) -> MLP:
    rng = np.random.default_rng(seed)
    return MLP(Dense(n_in, n_out, act, seed=rng, dtype=dtype)
               for n_in, n_out, act in zip(widths[:-1], widths[1:], activations, strict=True))  # fmt: skip


@pytest.mark.parametrize(
    ("widths", "activations", "loss", "dtype", "batch", "sizes"),
    [
        ([784, 256, 64, 256, 784], ["relu", "relu", "relu", "sigmoid"], MSE(), np.float32, 64, (64, 7, 1, 2, 33)),
        ([50, 3, 50], ["sigmoid", "sigmoid"], BinaryCrossEntropy(), np.float32, 32, (32,)),  # a tile's edge apart
        ([784, 10, 784], ["relu", "sigmoid"], MSE(), np.float32, 41, (41, 21)),
        ([20, 2, 20], ["tanh", "linear"], MSE(), np.float64, 4, (4,)),  # a fused multiply-add on one side only
    ],
)
def test_steps_run_here_alone_give_the_workers_bits_at_every_batch_size(widths, activations, loss, dtype, batch,
                                                                         sizes, monkeypatch):  # fmt: skip
    """Alone, this process makes each product whole where that gives the two shares' bits, and as the two where it
    does not (OpenBLAS sums a small product, such as 128 units by 7 rows, in another order than a large one; some
    kernels differ only at a tile's edge, or in a float64 multiply-add): at every batch size, the numbers of steps
    the worker took part in.  (Each batch size is checked at its first step alone here, not after 200.)"""
    monkeypatch.setattr(tensor_parallel, "CHECK_AFTER_STEPS", 1)
    first = _model(widths, activations, dtype)
    model, optimizer = first.copy(), Adam(lr=0.01)
    done: list[tuple[np.ndarray, np.ndarray]] = []
    losses = []
    with TensorParallelStep(model, loss, batch, optimizer, contention=Contention.never()) as step:
        assert step.wait_until_ready(READY_S), "the worker process did not start"
        for rows in sizes:
            rng = np.random.default_rng(rows)
            batches = [(rng.random((rows, widths[0])).astype(dtype), rng.random((rows, widths[-1])).astype(dtype))
                       for _ in range(3)]  # fmt: skip
            taken, began = step.worker_parts, len(done)
            while (step.worker_parts < taken + 6 or len(done) < began + 40) and len(done) < began + 2000:
                batch_now = [batches[len(done) % 3]]  # (it may lose races on a loaded machine, never all)
                losses += _train(step, optimizer, batch_now)
                done += batch_now
            assert step.worker_parts >= taken + 6
    alone, alone_optimizer = first.copy(), Adam(lr=0.01)
    with TensorParallelStep(alone, loss, batch, alone_optimizer, processes=1) as step:
        assert _train(step, alone_optimizer, done) == losses
        assert step.checked_rows == sorted(sizes)
    np.testing.assert_array_equal(model.params, alone.params)


def test_the_products_are_checked_only_once_a_batch_size_has_run_here_alone_long_enough():
    """The check of whole against split products (tens of milliseconds for a large model) is paid only where it
    pays: not by a run whose worker takes its steps, not for an epoch's short last batch, not by a short stretch
    alone; a batch size run here alone ``CHECK_AFTER_STEPS`` times is checked, once."""
    model, optimizer = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4), Adam(lr=0.01)
    (full,), (short,) = _batches(1, rows=33), _batches(1, rows=7)
    with TensorParallelStep(model, MSE(), 33, optimizer, contention=Contention.never()) as step:
        assert step.wait_until_ready(READY_S), "the worker process did not start"
        _train(step, optimizer, [full] * (CHECK_AFTER_STEPS + 5) + [short])
        assert step.checked_rows == []
    with TensorParallelStep(model, MSE(), 33, optimizer, processes=1) as step:
        _train(step, optimizer, [full] * (CHECK_AFTER_STEPS - 1) + [short] * 3)
        assert step.checked_rows == []
        _train(step, optimizer, [full] * 5)
        assert step.checked_rows == [33]


def test_the_weights_come_back_to_arrays_of_their_own_and_no_worker_outlives_the_step():
    before = children()
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    own = model.params
    optimizer = Adam(lr=0.01)
    with TensorParallelStep(model, MSE(), 33, optimizer) as step:
        assert step.wait_until_ready(READY_S)
        during = children() - before
        _train(step, optimizer, _batches(3, rows=33))
    assert model.params is own
    assert len(during) == 1
    assert not during & children()  # ended and waited for: no zombie either
    optimizer.m_sum[0] = 1.0  # its own writable memory
    assert not [name for name in os.listdir("/dev/shm") if name.startswith("denoise-studio-step-")]


@pytest.mark.parametrize("phase", [0, 2, 4])  # (a 3-layer network's phases: 0..4)
def test_a_worker_that_ends_in_the_middle_of_the_gradients_leaves_the_same_bits(tmp_path, monkeypatch, phase):
    """This process runs the worker's share from the part's start: the gradient and every later step are what one
    process computes alone."""
    in_worker(tmp_path, monkeypatch, f"""
        import os
        from engine import tensor_parallel

        run = tensor_parallel.UnitShare.run

        def run_and_die(self, phase):
            run(self, phase)
            if phase == {phase}:
                os._exit(7)

        tensor_parallel.UnitShare.run = run_and_die
    """)
    first = build_mlp([784, 100, 40, 784], ["relu", "relu", "sigmoid"], seed=4)
    batches = _batches(5, rows=33)
    model, optimizer = first.copy(), Adam(lr=0.01)
    with TensorParallelStep(model, MSE(), 33, optimizer) as step:
        assert step.wait_until_ready(READY_S)
        losses = []
        while step.wait_until_ready(0) and len(losses) < 1000:  # until it takes a part and ends in it
            losses += _train(step, optimizer, [batches[len(losses) % 5]])
        assert not step.wait_until_ready(0)
        with pytest.warns(RuntimeWarning, match="one core.*exited with code 7"):
            losses += _train(step, optimizer, batches)  # and on, here alone
    alone, alone_optimizer = first.copy(), Adam(lr=0.01)
    with TensorParallelStep(alone, MSE(), 33, alone_optimizer, processes=1) as step:
        assert losses == _train(step, alone_optimizer, [batches[i % 5] for i in range(len(losses) - 5)] + batches)
    np.testing.assert_array_equal(model.params, alone.params)


@pytest.mark.filterwarnings("error:training continues:RuntimeWarning")  # (not "continues": the run stops)
def test_a_worker_that_ends_in_the_middle_of_an_update_block_stops_the_run_with_a_clear_error(tmp_path, monkeypatch):
    """A block half updated cannot be run again (Adam's step would be taken twice): the run must stop and say so."""
    in_worker(tmp_path, monkeypatch, DIE_AFTER_AN_UPDATE_BLOCK)
    model, optimizer = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4), Adam(lr=0.01)
    noisy, clean = _batches(1, rows=33)[0]
    with TensorParallelStep(model, MSE(), 33, optimizer) as step:
        assert step.wait_until_ready(READY_S)
        with pytest.raises(RuntimeError, match="ended while it updated the weights"):
            for _ in range(1000):  # until the worker takes an update (mostly the first)
                step.gradients(noisy, clean)
                step.update(optimizer)


def test_a_worker_that_cannot_start_leaves_a_warning_and_the_same_bits(monkeypatch):
    import engine.tensor_parallel

    def no_process(*args, **kwargs):
        raise OSError("no room for a process")

    monkeypatch.setattr(engine.tensor_parallel, "start_worker", no_process)
    first = build_mlp([784, 64, 784], ["relu", "sigmoid"], seed=4)
    batches = _batches(3, rows=16)
    model, optimizer = first.copy(), Adam(lr=0.01)
    with (
        pytest.warns(RuntimeWarning, match="runs on one core"),
        TensorParallelStep(model, MSE(), 16, optimizer) as step,
    ):
        assert not step.wait_until_ready(0.1)
        losses = _train(step, optimizer, batches)
    alone, alone_optimizer = first.copy(), Adam(lr=0.01)
    with TensorParallelStep(alone, MSE(), 16, alone_optimizer, processes=1) as step:
        assert losses == _train(step, alone_optimizer, batches)
    np.testing.assert_array_equal(model.params, alone.params)


def _fit(epochs: int, x: np.ndarray, resume=None, config=None, model=None):
    model = model or build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    config = config or TrainConfig(epochs=epochs, batch_size=32, lr=0.01, noise=(0.0, 0.4), noise_weighting=0.1)
    trainer = Trainer(model, config, parallel="units")
    trainer.fit(x, resume=resume)
    return model, trainer


def test_a_run_split_by_units_resumes_bit_for_bit(tmp_path):
    x = (np.random.default_rng(5).random((160, 784)) > 0.6).astype(np.float32)
    straight, trainer = _fit(4, x)
    assert trainer.history.epochs[-1]["loss"] < trainer.history.epochs[0]["loss"]
    _, trainer = _fit(2, x)
    save_checkpoint(tmp_path / "run.ckpt.npz", trainer, next_epoch=2)
    run = load_checkpoint(tmp_path / "run.ckpt.npz")
    config = TrainConfig(**{**run.config.__dict__, "epochs": 4})
    _fit(4, x, resume=run.resume, config=config, model=run.model)
    np.testing.assert_array_equal(run.model.params, straight.params)


def test_a_stopped_worker_never_stops_the_run_and_changes_no_bit(monkeypatch):
    """A worker stopped between steps (a debugger, SIGSTOP: as if another program had its core) holds no part: this
    process takes back each part it offers and runs both shares, and the worker joins in again once continued
    (within ``STOPPED_S``, here made longer than any machine takes for these steps: else it would be ended)."""
    import signal

    from engine import shared_memory

    monkeypatch.setattr(shared_memory, "STOPPED_S", 600.0)
    before = children()
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    batches = _batches(5, rows=33)
    model, optimizer = first.copy(), Adam(lr=0.01)
    with TensorParallelStep(model, MSE(), 33, optimizer) as step:
        assert step.wait_until_ready(READY_S)
        (worker,) = children() - before
        losses = _train(step, optimizer, batches[:2])
        os.kill(worker, signal.SIGSTOP)
        try:
            taken = step.worker_parts
            losses += _train(step, optimizer, batches * 20)
            assert step.worker_parts == taken
        finally:
            os.kill(worker, signal.SIGCONT)
        while step.worker_parts == taken and len(losses) < 2000:
            losses += _train(step, optimizer, batches[:1])
        assert step.worker_parts > taken
    alone, alone_optimizer = first.copy(), Adam(lr=0.01)
    with TensorParallelStep(alone, MSE(), 33, alone_optimizer, processes=1) as step:
        assert losses == _train(step, alone_optimizer, batches[:2] + batches * 20 + [batches[0]] * (len(losses) - 102))
    np.testing.assert_array_equal(model.params, alone.params)


def test_a_run_split_by_units_trains_as_a_serial_run_does():
    """The same batches, noise and updates as a serial run, up to float32 rounding (the next batch's images are made
    while the worker updates: made wrong, or for the wrong batch, the runs would part at once)."""
    x = (np.random.default_rng(5).random((200, 784)) > 0.6).astype(np.float32)
    config = TrainConfig(epochs=3, batch_size=32, lr=0.003, noise=(0.0, 0.4), noise_weighting=0.1, seed=2)
    runs = []
    for parallel in ("units", False):
        model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
        trainer = Trainer(model, config, parallel=parallel)
        trainer.fit(x)
        runs.append((model, trainer.history.batch_loss))
    (split, split_losses), (serial, serial_losses) = runs
    assert len(split_losses) == len(serial_losses) == 3 * 7
    np.testing.assert_allclose(split_losses, serial_losses, rtol=1e-4)
    np.testing.assert_allclose(split.params, serial.params, rtol=1e-3, atol=1e-5)


STEPS_WITH_A_WORKER = {
    "units": "TensorParallelStep(model, MSE(), 33, Adam())",
    "halves": "ProcessParallelStep(model, MSE(), 33)",
}


@pytest.mark.parametrize("step", STEPS_WITH_A_WORKER.values(), ids=STEPS_WITH_A_WORKER.keys())
def test_a_stopped_worker_ends_when_its_trainer_is_killed(tmp_path, step):
    """A stopped worker (SIGSTOP, a debugger) never sees its pipes close: the kernel must end it with its trainer,
    or it stays for good."""
    import select
    import signal
    import subprocess
    import sys

    script = tmp_path / "trainer.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal
        from engine.losses import MSE
        from engine.nn import build_mlp
        from engine.optimizers import Adam
        from engine.steps import ProcessParallelStep
        from engine.tensor_parallel import TensorParallelStep

        model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
        step = {step}.__enter__()
        assert step.wait_until_ready(120)
        (worker,) = map(int, open(f"/proc/{{os.getpid()}}/task/{{os.getpid()}}/children").read().split())
        print(worker, flush=True)
        os.kill(worker, signal.SIGSTOP)
        os.kill(os.getpid(), signal.SIGKILL)
    """))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with open(tmp_path / "out", "w+") as out, open(tmp_path / "err", "w+") as err:  # (files: the worker holds them)
        trainer = subprocess.run([sys.executable, str(script)], stdout=out, stderr=err, env=env, timeout=300)
    assert trainer.returncode == -signal.SIGKILL, (tmp_path / "err").read_text()
    worker = int((tmp_path / "out").read_text())
    try:
        ended = os.pidfd_open(worker)
    except ProcessLookupError:
        return  # already gone
    try:
        readable, _, _ = select.select([ended], [], [], 30)
        if not readable:
            os.kill(worker, signal.SIGKILL)  # (not left behind by a failing test)
    finally:
        os.close(ended)
    assert readable, "a stopped worker outlived its trainer"


def test_an_error_while_the_next_batch_is_made_leaves_the_update_whole():
    """The trainer makes the next batch's images while the worker updates its blocks: if that fails (Ctrl-C, a bad
    file), the error comes once every block is updated, so the weights are those of a whole step, whoever ran what."""
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    batches = _batches(4, rows=33)

    def slow_then_fail():
        np.sort(np.random.default_rng(0).random(2_000_000))  # work long enough for the worker to take blocks
        raise KeyboardInterrupt

    results = []
    for processes in (2, 1):
        model, optimizer = first.copy(), Adam(lr=0.01)
        with TensorParallelStep(model, MSE(), 33, optimizer, processes=processes) as step:
            assert processes == 1 or step.wait_until_ready(READY_S)
            losses = _train(step, optimizer, batches[:2])
            losses.append(step.gradients(*batches[2]))
            with pytest.raises(KeyboardInterrupt):
                step.update(optimizer, slow_then_fail)
            losses += _train(step, optimizer, batches[3:])
        results.append((losses, model.params.copy(), optimizer.m_sum.copy(), optimizer.t))
    (losses, params, moments, t), (alone_losses, alone_params, alone_moments, alone_t) = results
    assert losses == alone_losses and t == alone_t == 4
    np.testing.assert_array_equal(params, alone_params)
    np.testing.assert_array_equal(moments, alone_moments)


def test_an_update_is_offered_in_few_enough_blocks_to_fit_one_write_to_a_pipe():
    from engine.tensor_parallel import MOST_BLOCKS, TOKEN, update_blocks_of

    assert MOST_BLOCKS * TOKEN.size <= 4096  # PIPE_BUF: a write that size is never split, and a one-page pipe holds it
    for n in (1, 5, 435_536, 33_554_432):
        blocks = update_blocks_of(n)
        assert 1 <= len(blocks) <= MOST_BLOCKS
        assert blocks[0][0] == 0 and blocks[-1][1] == n
        assert all(lo < hi for lo, hi in blocks)
        assert all(a[1] == b[0] for a, b in zip(blocks[:-1], blocks[1:], strict=True))
