"""The multi-layer perceptron: a stack of Dense layers with one flat parameter vector.

Every layer's ``W``/``b`` (and ``grad_W``/``grad_b``) is a view into one contiguous vector
(``params``/``grads``), so an optimizer step is a few whole-vector operations.  A model may end
in a skip path from its input (``engine.skip``): the last layer's output is then the network's
own image, which the skip combines with the input into the model's output; the skip's weights
(a gate's) follow the layers' in the vector.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from engine.images import as_unit_float
from engine.layers import Dense
from engine.metrics import is_square_image, psnr, ssim
from engine.metrics import mse as mean_squared_error
from engine.model_format import ModelFileError, activation_from_spec, check_weights_dtype, read_model, write_model
from engine.model_limits import check_architecture
from engine.model_paths import resolve_model_path
from engine.noise import NoiseSetting, check_kind, check_level, fixed_noisy, training_noise
from engine.run_limits import LR, checked_metadata
from engine.skip import GatedSkip, Skip, make_skip
from engine.summary import format_summary

if TYPE_CHECKING:  # (the training loop is imported by ``train``: a model that only denoises never needs it)
    from engine.callbacks import Callback, History
    from engine.training import ResumeState, TrainConfig

PREDICT_CHUNK = 4096
"""Rows per forward pass in ``predict``: bounds memory on large inputs."""


class MLP:
    """A multi-layer perceptron (here: the denoising autoencoder).

    >>> net = MLP()
    >>> net.add(Dense(784, 10, "relu")); net.add(Dense(10, 784, "sigmoid"))

    ``skip``: a skip path from the input (``engine.skip``), given once the layers are all there
    (``MLP(layers, skip=...)`` or ``set_skip``); None for a plain network.
    """

    def __init__(self, layers: Iterable[Dense] = (), skip: Skip | str | None = None) -> None:
        self.layers: list[Dense] = []
        self.skip: Skip | None = None
        self.metadata: dict = {}
        self.load_notes: list[str] = []
        """What ``load`` changed in the file's metadata to obey ``engine.run_limits`` (one line each)."""
        self.optimizer_state: dict[str, np.ndarray] = {}
        self.path: str | None = None
        self.params = np.zeros(0, np.float32)
        self.grads = np.zeros(0, np.float32)
        self._extend(list(layers), flatten=skip is None)  # (with a skip, its weights join the vector: one copy)
        if skip is not None:
            self.set_skip(skip)

    # ----- structure -------------------------------------------------------------------------
    def add(self, layer: Dense) -> MLP:
        """Append a layer; its input width must match the previous layer's output width, and the
        model must stay within the limits every model file obeys (``engine.model_limits``)."""
        self._extend([layer])
        return self

    def set_skip(self, skip: Skip | str, seed: int | np.random.Generator | None = 0) -> MLP:
        """End the model in a skip path: a ``Skip``, or its kind (``"gate"``, ``"residual"``), made to fit.

        The model must map n -> n (the skip adds its input to its output) and stay within the limits."""
        self._require_layers()
        if self.skip is not None:
            raise ValueError(f"the model already ends in a {self.skip.kind} skip")
        if self.n_in != self.n_out:
            raise ValueError(f"a skip path needs a model mapping n -> n, got {self.n_in} -> {self.n_out}")
        n_hidden = self.layers[-1].n_in
        if isinstance(skip, str):
            check_architecture(self.widths(), skip=skip)
            skip = make_skip(skip, n_hidden, self.n_out, seed, self.layers[0].dtype)
        if not isinstance(skip, Skip):
            raise TypeError(f"skip must be a Skip or its kind, got {type(skip).__name__}")
        if skip.n != self.n_out or any(layer.n_in != n_hidden for layer in skip.layers):
            raise ValueError(f"the skip does not fit this model (last hidden width {n_hidden}, {self.n_out} pixels)")
        if any(layer.dtype != self.layers[0].dtype for layer in skip.layers):
            raise TypeError(f"the skip's dtype differs from the model's {self.layers[0].dtype}")
        check_architecture(self.widths(), skip=skip.kind)
        self.skip = skip
        self._flatten()
        return self

    def widths(self) -> list[int]:
        """``[n_in, n_out of each layer]``, e.g. ``[784, 10, 784]``."""
        return [self.layers[0].n_in, *(layer.n_out for layer in self.layers)] if self.layers else []

    def _extend(self, new: list[Dense], flatten: bool = True) -> None:
        """Append layers after checking all of them, then (unless a skip follows) move the weights into one
        vector once."""
        if not new:
            return
        if self.skip is not None:
            raise ValueError("the model ends in a skip path: add every layer before the skip")
        chain = list(self.layers)
        for layer in new:
            if not isinstance(layer, Dense):
                raise TypeError(f"add() takes a Dense layer, got {type(layer).__name__}")
            if chain and layer.n_in != chain[-1].n_out:
                raise ValueError(
                    f"layer widths don't chain: the new layer takes n_in={layer.n_in} "
                    f"but the previous layer gives n_out={chain[-1].n_out}"
                )
            if chain and layer.dtype != chain[0].dtype:
                raise TypeError(f"layer dtype {layer.dtype} differs from the model's {chain[0].dtype}")
            chain.append(layer)
        check_architecture([chain[0].n_in, *(layer.n_out for layer in chain)])
        self.layers = chain
        if flatten:
            self._flatten()

    @property
    def parameter_layers(self) -> list[Dense]:
        """Every Dense layer whose weights the model learns: the network's, then the skip's (a gate's)."""
        return self.layers + (self.skip.layers if self.skip is not None else [])

    def named_parameter_layers(self) -> list[tuple[str, Dense]]:
        """``parameter_layers`` with the names views show them by: ``"layer 1"`` … ``"layer n"`` for the network's,
        then the skip's own by its kind (a gate's: ``"gate"``).  Each layer's ``W`` is (n_out, n_in)."""
        named = [(f"layer {i + 1}", layer) for i, layer in enumerate(self.layers)]
        if self.skip is not None:
            own = self.skip.layers
            named += [(self.skip.kind if len(own) == 1 else f"{self.skip.kind} {k + 1}", layer)
                      for k, layer in enumerate(own)]  # fmt: skip
        return named

    @property
    def gate_layer(self) -> Dense | None:
        """The gated skip path's Dense layer (``engine.skip.GatedSkip``), None for a model without one.

        Its ``W`` is (n_out, n_hidden): column j says how much hidden unit j opens (+) or closes (−) each pixel's
        gate ``g = sigmoid(W h + b)``, i.e. how much of the input that pixel takes; ``b`` (n_out,) where each
        pixel's gate sits when the last hidden layer is silent."""
        return self.skip.dense if isinstance(self.skip, GatedSkip) else None

    def _flatten(self) -> None:
        """Move all weights into one new vector and rebind each layer's arrays as views of it."""
        dtype = self.layers[0].dtype
        layers = self.parameter_layers
        total = sum(layer.n_params for layer in layers)
        params, grads = np.empty(total, dtype), np.zeros(total, dtype)
        _bind(layers, params, grads, copy_values=True)
        self.params, self.grads = params, grads

    def replica(self) -> MLP:
        """A model sharing this one's parameter vector (the very same ``W``/``b`` arrays) with its own
        gradient vector, activations and scratch buffers: another thread can run forward and backward
        on it at the same time (``engine.steps.DataParallelStep``)."""
        twin = MLP()
        twin.layers = [Dense(ly.n_in, ly.n_out, ly.activation, seed=0, dtype=ly.dtype) for ly in self.layers]
        twin.skip = self.skip.replica() if self.skip is not None else None
        twin.params, twin.grads = self.params, np.zeros_like(self.grads)
        _bind(twin.parameter_layers, twin.params, twin.grads, copy_values=False)
        return twin

    def move_vectors(self, params: np.ndarray, grads: np.ndarray, copy_values: bool = True) -> None:
        """Make ``params`` and ``grads`` (n_params,) the model's vectors, every layer's arrays views of them.

        copy_values : copy the present weights into ``params`` first (else the weights are what it holds).
        ``engine.steps.ProcessParallelStep`` moves them into memory shared with another process for a run, and back."""
        for name, new in (("params", params), ("grads", grads)):
            old = getattr(self, name)
            if not isinstance(new, np.ndarray) or new.shape != old.shape or new.dtype != old.dtype:
                raise ValueError(f"{name} must be a {old.dtype} vector of {old.size} values")
        _bind(self.parameter_layers, params, grads, copy_values=copy_values)
        self.params, self.grads = params, grads

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in if self.layers else 0

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out if self.layers else 0

    @property
    def n_params(self) -> int:
        return int(self.params.size)

    @property
    def latent_width(self) -> int:
        """Units of the narrowest hidden layer (the code); 0 for a model without layers."""
        return self.layers[self.bottleneck_index()].n_out if self.layers else 0

    def layer_specs(self) -> list[dict]:
        return [layer.spec() for layer in self.layers]

    # ----- computation ----------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (batch, n_in) float32 -> (batch, n_out); caches what ``backward`` needs."""
        if self.skip is None:
            for layer in self.layers:
                x = layer.forward(x, training)
            return x
        h = x
        for layer in self.layers[:-1]:
            h = layer.forward(h, training)
        return self.skip.forward(x, h, self.layers[-1].forward(h, training), training)

    def backward(self, grad: np.ndarray) -> None:
        """grad: dL/d(output) (batch, n_out), overwritten; fills ``grads``."""
        extra = None  # what the skip's own layers send back to the last hidden layer
        if self.skip is not None:
            grad, extra = self.skip.backward(grad)
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=i > 0)
            if extra is not None and i > 0:
                grad += extra
                extra = None

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The network's output for one image or a batch, in the input's layout.

        Parameters
        ----------
        x : (784,) or (28, 28) one image, or (batch, 784) / (batch, 28, 28), values in [0, 1].

        Returns
        -------
        ndarray, float32, same shape as ``x`` when the model maps n_in -> n_in, else
        (n_out,) or (batch, n_out).
        """
        self._require_layers()
        arr = np.asarray(x)
        rows = self._as_rows(arr, self.n_in, "predict()")
        if len(rows) == 0:  # an empty batch: an empty answer of the right width
            out = np.empty((0, self.n_out), self.layers[-1].dtype)
        else:
            chunks = [self.forward(rows[i : i + PREDICT_CHUNK], False) for i in range(0, len(rows), PREDICT_CHUNK)]
            out = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        if self.n_out == self.n_in:
            return out.reshape(arr.shape)
        single = arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] != self.n_in)  # (n_in,) or one (28, 28) image
        return out[0] if single else out

    def activations(self, x: np.ndarray, start: int = 0, skip_input: np.ndarray | None = None) -> list[np.ndarray]:
        """Every layer's output in one forward pass: what the network computes on its way to ``predict``.

        Parameters
        ----------
        x : (784,) one image or (batch, 784) — or, with ``start`` > 0, the output of layer
            ``start - 1`` (e.g. a latent code, to see what the decoder makes of it).
        start : the first layer to run (0: the whole network).
        skip_input : with a skip and ``start`` > 0, the model's input (batch, n_in) for the skip.

        Returns
        -------
        list of float32 arrays, one per layer run, ``[(batch, layers[start].n_out), ...,
        (batch, n_out)]``; the last equals ``predict(x)`` (as rows) when ``start`` is 0.  With a
        skip the last is the model's output (the skip applied: ``skip_parts`` gives the network's
        own image apart); from a code without ``skip_input`` it is the network's own image.
        """
        self._require_layers()
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
            raise TypeError(f"start must be an int, got {type(start).__name__}")
        if not 0 <= start < len(self.layers):
            raise ValueError(f"start must be between 0 and {len(self.layers) - 1} (a layer index), got {start}")
        h = self._as_rows(x, self.layers[start].n_in, "activations()")
        if start == 0:
            skip_input = h
        elif skip_input is not None:
            skip_input = self._as_rows(skip_input, self.n_in, "activations() skip_input")
            if len(skip_input) != len(h):
                raise ValueError(f"skip_input has {len(skip_input)} rows for {len(h)} codes")
        outputs = []
        for layer in self.layers[start:]:
            hidden = h
            h = layer.forward(h, training=False)  # a fresh array per layer
            outputs.append(h)
        if self.skip is not None and skip_input is not None:
            outputs[-1] = self.skip.forward(skip_input, hidden, h, training=False)
        return outputs

    def skip_parts(self, x: np.ndarray) -> dict[str, np.ndarray | None]:
        """How a model with a skip builds its output from the input and the network's image.

        x : (784,) one image or (batch, 784).  Returns (batch, n_out) float32 arrays:
        ``network`` (the last layer's own image), ``gate`` (how much of the input each pixel takes,
        0 to 1; None for a skip without a gate), ``skip`` (what the input itself contributes:
        ``gate * x``, or ``x`` for a residual skip) and ``output`` (``predict(x)``).  A model
        without a skip: ``network`` and ``output`` alike, ``gate`` and ``skip`` None.
        """
        self._require_layers()
        x = self._as_rows(x, self.n_in, "skip_parts()")
        h = x
        for layer in self.layers[:-1]:
            h = layer.forward(h, training=False)
        network = self.layers[-1].forward(h, training=False)
        if self.skip is None:
            return {"network": network, "gate": None, "skip": None, "output": network.copy()}
        return {
            "network": network,
            "gate": self.skip.gate(h),
            "skip": self.skip.contribution(x, h),
            "output": self.skip.forward(x, h, network.copy(), training=False),
        }

    def encode(self, x: np.ndarray, depth: int | None = None) -> np.ndarray:
        """The activations after ``depth`` layers (default: the narrowest layer, the latent code)."""
        self._require_layers()
        depth = self._check_depth(depth)
        h = self._as_rows(x, self.n_in, "encode()")
        for layer in self.layers[:depth]:
            h = layer.forward(h, training=False)
        return h

    def decode(self, code: np.ndarray, depth: int | None = None) -> np.ndarray:
        """Run the layers after ``depth`` (default: after the bottleneck) on a latent code."""
        self._require_layers()
        depth = self._check_depth(depth)
        h = self._as_rows(code, self.layers[depth - 1].n_out, "decode()")
        for layer in self.layers[depth:]:
            h = layer.forward(h, training=False)
        return h

    def _check_depth(self, depth: int | None) -> int:
        """``depth`` (layers counted from the input) checked against the model; default: the bottleneck."""
        if depth is None:
            return self.bottleneck_index() + 1
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
            raise TypeError(f"depth must be an int, got {type(depth).__name__}")
        if not 1 <= depth <= len(self.layers):
            raise ValueError(f"depth must be between 1 and {len(self.layers)} (the number of layers), got {depth}")
        return int(depth)

    def _as_rows(self, x, width: int, what: str) -> np.ndarray:
        """x as (rows, width) in the model's dtype: (width,), (batch, width) or (batch, ...) with width values."""
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{what} needs numeric input, got dtype {arr.dtype}")
        if arr.ndim == 1 and arr.size == width:
            rows = arr.reshape(1, width)
        elif arr.ndim >= 2 and math.prod(arr.shape[1:]) == width:
            rows = arr.reshape(len(arr), width)
        elif arr.ndim == 2 and arr.size == width:  # one (28, 28) image
            rows = arr.reshape(1, width)
        else:
            images = ", one (28, 28) image or (batch, 28, 28)" if width == 784 else ""
            raise ValueError(
                f"{what} input must hold {width} values per row, as ({width},) or (batch, {width}){images}; "
                f"got shape {arr.shape}"
            )
        with np.errstate(over="ignore"):
            rows = np.asarray(rows, self.layers[0].dtype)
        if not np.all(np.isfinite(rows)):
            raise ValueError(f"{what} input contains NaN or infinite values (or values too large for float32)")
        return rows

    def bottleneck_index(self) -> int:
        """Index of the layer with the narrowest output (the latent layer)."""
        return int(np.argmin([layer.n_out for layer in self.layers[:-1]] or [0]))

    # ----- training --------------------------------------------------------------------------
    def fit(
        self,
        x_train,
        x_val: np.ndarray | None = None,
        *,
        config: TrainConfig | None = None,
        callbacks: Sequence[Callback] = (),
        resume: ResumeState | None = None,
        **hyperparameters,
    ) -> History:
        """Train as a denoising autoencoder; a thin wrapper over ``Trainer.fit``.

        Parameters
        ----------
        x_train : a ``Dataset`` (its training and test images are used), or clean images
            (n, 784) uint8 or float32 in [0, 1].
        x_val : (m, 784) clean validation images, optional.
        config : ``TrainConfig``; keyword arguments (``epochs``, ``batch_size``, ``lr``,
            ``optimizer``, ``momentum``, ``noise``, ``seed``, ``loss``, ``noise_kind``) override
            its fields.  ``noise`` is one level or a ``(low, high)`` range, each image drawing
            its own level from it.
        callbacks : watchers of the loop (progress bars, checkpoints, the GUI bridge).
        resume : continue an interrupted run from its checkpoint (``engine.checkpoint``).
        """
        self._require_layers()
        if "learning_rate" in hyperparameters:
            hyperparameters["lr"] = hyperparameters.pop("learning_rate")
        from engine.training import TrainConfig, Trainer

        allowed = [f.name for f in fields(TrainConfig)]
        unknown = sorted(set(hyperparameters) - set(allowed))
        if unknown:
            raise TypeError(f"fit() got unknown hyperparameter {unknown[0]!r}; allowed: {', '.join(allowed)}")
        if config is not None and not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        config = replace(config or TrainConfig(), **hyperparameters)
        dataset_info = {}
        if hasattr(x_train, "train_u8"):
            dataset = x_train
            dataset_info = {"name": dataset.name, "train_size": dataset.train_size, "test_size": dataset.test_size}
            x_train, x_val = dataset.train_u8, dataset.test_u8 if x_val is None else x_val
        if self.n_in != self.n_out:
            raise ValueError(f"fit() trains an autoencoder: the model must map n -> n, got {self.n_in} -> {self.n_out}")
        if not isinstance(x_train, np.ndarray):
            raise TypeError(
                f"x_train must be a Dataset or a NumPy array of shape (n, {self.n_in}), got {type(x_train).__name__}"
            )
        trainer = Trainer(self, config, list(callbacks))
        try:
            trainer.fit(x_train, x_val, resume=resume)
        finally:
            for layer in self.layers:
                layer.release_buffers()
            if self.skip is not None:
                self.skip.release_buffers()
            self.metadata.update(
                training=_settings_used(config, trainer.optimizer.lr),
                history=trainer.history.to_dict(),
                dataset=dataset_info or self.metadata.get("dataset", {}),
            )
        return trainer.history

    train = fit  # the seed's name

    def evaluate(
        self, images, noise: float = 0.1, seed: int | None = None, kind: str = "gaussian", *, with_ssim: bool = True
    ) -> dict[str, float]:
        """MSE and PSNR of reconstructions of clean test images under a fixed noise draw.

        Parameters
        ----------
        images : a ``Dataset`` (its test images), or clean images (n, 784) / (n, 28, 28),
            uint8 pixels or float in [0, 1].
        noise : the level: Gaussian σ, or the fraction of pixels hit for the other kinds; the
            draw is fixed (``engine.noise.EVAL_NOISE_SEED``) unless ``seed``.
        kind : ``"gaussian"``, ``"salt_and_pepper"`` or ``"masking"``.

        with_ssim : False leaves SSIM out (it costs as much as the reconstructions of a small model: a caller that
            shows only the MSE, such as the app's status bar after every run, need not pay it).

        Returns ``{"noise", "mse", "psnr", "ssim", "identity_mse"}`` (no ``ssim`` without ``with_ssim``); ``ssim``
        is the mean SSIM (``engine.metrics.ssim``, NaN for images that are not square); ``identity_mse`` is the
        error of the noisy input itself, the level a do-nothing model scores.
        """
        kind = check_kind(kind)
        noise = check_level(noise, kind)
        images = getattr(images, "test_u8", images)
        images = np.asarray(images)
        if images.dtype.kind not in "biuf":
            raise TypeError(f"evaluate() needs numeric images, got dtype {images.dtype}")
        if images.ndim < 2 or len(images) == 0:
            raise ValueError(
                f"evaluate() images must be (n, {self.n_in}) or (n, 28, 28) with n >= 1, got shape {images.shape}"
            )
        clean = as_unit_float(images)
        clean = clean.reshape(len(clean), -1)
        noisy = fixed_noisy(clean, noise, kind=kind) if seed is None else fixed_noisy(clean, noise, seed, kind)
        pred = self.predict(noisy)
        err = mean_squared_error(pred, clean)
        scores = {"noise": noise, "mse": err, "psnr": psnr(err), "identity_mse": mean_squared_error(noisy, clean)}
        if with_ssim:
            scores["ssim"] = ssim(pred, clean) if is_square_image(clean.shape[1]) else float("nan")
        return scores

    @property
    def training_noise(self) -> NoiseSetting | None:
        """The noise kind and level range this model was trained with (from its metadata); None if unknown."""
        return training_noise(self.metadata)

    # ----- text and files --------------------------------------------------------------------
    def summary(self, print_fn=print) -> str:
        """Print (via ``print_fn``, ``None`` for silence) and return the seed's summary text."""
        text = format_summary(self.layers, self.skip)
        if print_fn is not None:
            print_fn(text)
        return text

    def save(
        self,
        path: str | os.PathLike,
        *,
        optimizer_state: dict | None = None,
        resume: dict | None = None,
        weights_dtype: str = "float32",
    ) -> None:
        """Write the model atomically as ``.npz`` + JSON header (optionally a resumable checkpoint).

        ``weights_dtype="float16"`` stores the weights at half the size (a file to ship; loading reads
        them back as float32): ``round_weights("float16")`` first gives the stored model's scores."""
        self._require_layers()
        dtype = check_weights_dtype(weights_dtype)
        arrays = {}
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i}.W"], arrays[f"layer{i}.b"] = layer.W, layer.b
        for layer in self.skip.layers if self.skip is not None else ():
            arrays["skip.W"], arrays["skip.b"] = layer.W, layer.b
        if dtype != np.float32:
            largest = float(np.finfo(dtype).max)
            if float(np.max(np.abs(self.params), initial=0)) > largest:
                raise ValueError(f"not saving {path}: a weight is too large for {dtype} (at most {largest:g})")
            arrays = {key: value.astype(dtype) for key, value in arrays.items()}
        for key, value in (optimizer_state or {}).items():
            arrays[f"optimizer.{key}"] = np.asarray(value)
        metadata = dict(self.metadata)
        if resume is not None:
            metadata["resume"] = resume
        else:
            metadata.pop("resume", None)
        write_model(path, self.layer_specs(), arrays, metadata, skip=None if self.skip is None else self.skip.spec())

    def round_weights(self, weights_dtype: str) -> MLP:
        """Round the weights in place to what a file of ``weights_dtype`` stores (``"float16"``: about three
        significant digits), so the model scores as its saved file will; they stay float32 arrays."""
        dtype = check_weights_dtype(weights_dtype)
        with np.errstate(over="raise"):
            try:
                rounded = self.params.astype(dtype)
            except FloatingPointError:
                raise ValueError(f"a weight is too large for {dtype} (at most {np.finfo(dtype).max:g})") from None
        self.params[...] = rounded
        return self

    def load(self, name_or_path: str | os.PathLike, verbose: bool = True) -> MLP:
        """Replace this model by a saved one (a path, or a bare name from ``models/``).

        Prints the summary unless ``verbose=False``.  Raises ``ModelFileError`` for a missing
        or invalid file and leaves this model unchanged.  Settings in the metadata outside the
        bounds every run obeys are clamped, each with a line in ``load_notes``.
        """
        path = resolve_model_path(name_or_path)
        header, arrays = read_model(path)
        try:
            layers = [
                Dense.from_arrays(arrays.pop(f"layer{i}.W"), arrays.pop(f"layer{i}.b"), activation_from_spec(spec))
                for i, spec in enumerate(header["layers"])
            ]
            skip = header.get("skip")
            loaded = MLP(layers, skip=None if skip is None else _skip_from_arrays(skip, arrays, layers[-1].n_out))
        except (ValueError, TypeError) as exc:
            raise ModelFileError(path, str(exc)) from None
        self.layers, self.skip, self.params, self.grads = loaded.layers, loaded.skip, loaded.params, loaded.grads
        self.metadata, self.load_notes = checked_metadata(header.get("metadata", {}))
        prefix = "optimizer."
        self.optimizer_state = {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
        self.path = str(path)
        if verbose:
            self.summary()
        return self

    def copy(self, metadata: bool = True) -> MLP:
        """An independent copy: its own parameter vector and the same metadata (deep-copied; with
        ``metadata=False`` none: a quick copy to compute with, as a training history can be long)."""
        if self.layers and self.layers[0].dtype == np.float32:  # no initial weights drawn only to be overwritten
            twin = MLP()
            twin.layers = [Dense.from_arrays(ly.W, ly.b, ly.activation) for ly in self.layers]
            twin.skip = self.skip.copy() if self.skip is not None else None
            twin._flatten()  # copies the arrays into its own vector
        else:
            twin = MLP(Dense(ly.n_in, ly.n_out, ly.activation, seed=0, dtype=ly.dtype) for ly in self.layers)
            if self.skip is not None:
                twin.set_skip(self.skip.replica())
            np.copyto(twin.params, self.params)
        twin.metadata = copy.deepcopy(self.metadata) if metadata else {}
        twin.path = self.path
        return twin

    @classmethod
    def from_file(cls, name_or_path: str | os.PathLike) -> MLP:
        """A model loaded from a file, silently."""
        return cls().load(name_or_path, verbose=False)

    def _require_layers(self) -> None:
        if not self.layers:
            raise ValueError("the model has no layers: add() Dense layers or load() a model first")

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        skip = f", skip={self.skip.kind!r}" if self.skip is not None else ""
        return f"MLP([{inner}]{skip})"


def _settings_used(config: TrainConfig, final_lr: float) -> dict:
    """The run's settings as the model file records them, with the learning rate it ended with: a rate changed
    while training (the app's form, a callback setting ``optimizer.lr``) is the one the next run should start
    from; each epoch's own rate is in the history."""
    settings = asdict(config)
    if LR.problem(final_lr) is None:
        settings["lr"] = float(final_lr)
    return settings


def build_mlp(
    widths: Sequence[int], activations: Sequence[str], seed: int | None = 0, skip: str | None = None
) -> MLP:
    """An MLP from widths ``[784, 10, 784]`` and one activation per layer, ending in a skip path of kind
    ``skip`` (``"gate"``, ``"residual"``) or none."""
    if isinstance(activations, str) or not isinstance(activations, Sequence):
        raise TypeError(
            f"activations must be a list of names, one per layer, e.g. ['relu', 'sigmoid']; got {activations!r}"
        )
    if not isinstance(widths, Sequence) and not isinstance(widths, np.ndarray):
        raise TypeError(f"widths must be a list of layer widths, e.g. [784, 10, 784]; got {widths!r}")
    if len(widths) < 2 or len(activations) != len(widths) - 1:
        raise ValueError(
            f"need at least two widths and one activation per layer; got {len(widths)} widths, "
            f"{len(activations)} activations"
        )
    plain_seed = seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool))
    if not (plain_seed or isinstance(seed, np.random.Generator)) or (plain_seed and (seed or 0) < 0):
        raise ValueError(f"seed must be an int >= 0, None or a numpy Generator, got {seed!r:.40}")
    if all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in widths):
        check_architecture([int(w) for w in widths], skip=skip)  # before allocating any layer
    rng = np.random.default_rng(seed)
    model = MLP(Dense(a, b, act, seed=rng) for a, b, act in zip(widths[:-1], widths[1:], activations, strict=True))
    if skip is not None:
        model.set_skip(skip, seed=rng)
    return model


def _skip_from_arrays(spec: dict, arrays: dict[str, np.ndarray], n: int) -> Skip:
    """The skip a model file's header describes (``engine.model_format`` has checked it), with its weights."""
    if spec["type"] == "gate":
        return GatedSkip.from_arrays(arrays.pop("skip.W"), arrays.pop("skip.b"))
    return make_skip(spec["type"], n, n)


def _bind(layers: Sequence[Dense], params: np.ndarray, grads: np.ndarray, *, copy_values: bool) -> None:
    """Make each layer's ``W``, ``b``, ``grad_W``, ``grad_b`` views of ``params``/``grads`` (n_params,),
    in layer order, W before b; ``copy_values`` first copies the layers' present weights in."""
    offset = 0
    for layer in layers:
        for name in ("W", "b"):
            arr = getattr(layer, name)
            view = params[offset : offset + arr.size].reshape(arr.shape)
            if copy_values:
                view[...] = arr
            setattr(layer, name, view)
            setattr(layer, f"grad_{name}", grads[offset : offset + arr.size].reshape(arr.shape))
            offset += arr.size
