"""ONNX export: a model as one ``Gemm`` and one activation node per Dense layer, for other tools.

A skip path becomes a few element-wise nodes after them: a gate is one more ``Gemm`` and
``Sigmoid`` from the last layer's input, then ``output = c + g * (input - c)``; a residual skip is
``output = Clip(input + c, 0, 1)``.

The graph takes ``input`` (batch, n_in) float32 and gives ``output`` (batch, n_out) float32, the
same numbers ``MLP.predict`` gives (within float32 rounding).  The model's name, layers, training
settings, data set and scores go into the file's metadata (``metadata_props``), as JSON strings.

Needs the optional ``onnx`` package: ``pip install 'denoise-studio[onnx]'``; without it
``export_onnx`` raises ``OnnxUnavailable`` saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np

from engine import __version__
from engine.atomic import atomic_write

INSTALL_HINT = "pip install 'denoise-studio[onnx]'"
PRODUCER = "denoise-studio"
OPSET = 17
"""Every op used (Gemm, Relu, Sigmoid, Tanh, LeakyRelu, Identity, Add, Sub, Mul, Clip) is unchanged since
opset 13; 17 is read by every onnxruntime since 1.11."""
IR_VERSION = 8
_ONNX_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyRelu", "linear": None}


class OnnxUnavailable(ImportError):
    """The optional ``onnx`` package is not installed, or is installed but cannot be imported (``broken``: why)."""

    def __init__(self, broken: str | None = None) -> None:
        if broken is None:
            super().__init__(f"ONNX export needs the onnx package: {INSTALL_HINT}")
        else:
            super().__init__(
                f"the onnx package is installed but cannot be imported ({broken}); reinstall it: {INSTALL_HINT}"
            )


def onnx_available() -> bool:
    """Whether ``onnx`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("onnx") is not None
    except (ImportError, ValueError):
        return False


def is_onnx_export(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ONNX file this package wrote: its ``producer_name`` (field 2, written right
    after ``ir_version``) is ours.  What the CLI may replace without ``--force``."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    marker = b"\x12" + bytes([len(PRODUCER)]) + PRODUCER.encode()
    return head[:1] == b"\x08" and marker in head[:32]


def to_onnx(model, name: str | None = None):
    """The ``onnx.ModelProto`` of ``model`` (an ``MLP``), checked by ``onnx.checker``.

    ``name``: recorded as the model's name (default: its file's stem, else "model").
    """
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ModuleNotFoundError as exc:
        raise OnnxUnavailable(None if exc.name in ("onnx", None) else _first_line(exc)) from None
    except Exception as exc:  # an install broken in any way (a missing library, a protobuf clash)
        raise OnnxUnavailable(_first_line(exc)) from None
    if not model.layers:
        raise ValueError("the model has no layers: nothing to export")
    name = name or (Path(model.path).stem if getattr(model, "path", None) else "model")
    nodes, weights = [], []
    skip = getattr(model, "skip", None)
    last = len(model.layers) - 1
    final = "output" if skip is None else "network"  # with a skip, the last layer gives the network's image
    current = hidden = "input"
    for i, layer in enumerate(model.layers):
        key = layer.activation.key
        op = _ONNX_OPS[key]
        gemm_out = final if i == last and op is None else f"dense{i}"
        hidden = current  # the last layer's input, which a gate reads
        weights += [
            numpy_helper.from_array(np.ascontiguousarray(layer.W, np.float32), f"layer{i}.W"),  # (n_out, n_in)
            numpy_helper.from_array(np.ascontiguousarray(layer.b, np.float32), f"layer{i}.b"),  # (n_out,)
        ]
        nodes.append(helper.make_node("Gemm", [current, f"layer{i}.W", f"layer{i}.b"], [gemm_out], transB=1,
                                      name=f"layer{i}.dense"))  # fmt: skip
        current = gemm_out
        if op is not None:
            act_out = final if i == last else f"{key}{i}"
            extra = {"alpha": float(layer.activation.alpha)} if key == "leaky_relu" else {}
            nodes.append(helper.make_node(op, [current], [act_out], name=f"layer{i}.{key}", **extra))
            current = act_out
    if skip is not None:
        skip_nodes, skip_weights = _skip_graph(skip, hidden, current, helper, numpy_helper)
        nodes += skip_nodes
        weights += skip_weights
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", model.n_in])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", model.n_out])],
        initializer=weights,
    )
    proto = helper.make_model(
        graph,
        producer_name=PRODUCER,
        producer_version=__version__,
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=f"Denoise Studio model {name}: " + " -> ".join(str(w) for w in _widths(model)),
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, _metadata(model, name))
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, path: str | os.PathLike, name: str | None = None) -> None:
    """Write ``model`` as an ONNX file at ``path``, atomically (see ``to_onnx``)."""
    data = to_onnx(model, name).SerializeToString()
    atomic_write(path, lambda f: f.write(data))


def _skip_graph(skip, hidden: str, network: str, helper, numpy_helper) -> tuple[list, list]:
    """Nodes (and a gate's weights) that turn the model's input and the network's image ``network`` into
    ``output``; ``hidden`` names the last layer's input."""
    if skip.kind == "residual":
        low, high = (numpy_helper.from_array(np.array(v, np.float32), f"skip.{v}") for v in (0, 1))
        return [
            helper.make_node("Add", ["input", network], ["skip.sum"], name="skip.add"),
            helper.make_node("Clip", ["skip.sum", "skip.0", "skip.1"], ["output"], name="skip.clip"),
        ], [low, high]
    dense = skip.layers[0]
    weights = [
        numpy_helper.from_array(np.ascontiguousarray(dense.W, np.float32), "skip.W"),  # (n_out, n_in)
        numpy_helper.from_array(np.ascontiguousarray(dense.b, np.float32), "skip.b"),  # (n_out,)
    ]
    nodes = [
        helper.make_node("Gemm", [hidden, "skip.W", "skip.b"], ["skip.dense"], transB=1, name="skip.gate.dense"),
        helper.make_node("Sigmoid", ["skip.dense"], ["gate"], name="skip.gate.sigmoid"),
        helper.make_node("Sub", ["input", network], ["skip.difference"], name="skip.subtract"),
        helper.make_node("Mul", ["gate", "skip.difference"], ["skip.gated"], name="skip.multiply"),
        helper.make_node("Add", [network, "skip.gated"], ["output"], name="skip.add"),  # c + g (x - c)
    ]
    return nodes, weights


def _widths(model) -> list[int]:
    return [model.layers[0].n_in, *(layer.n_out for layer in model.layers)]


def _metadata(model, name: str) -> dict[str, str]:
    """String metadata: the name, the layers, and the model file's training settings, data set and scores."""
    props = {
        "name": name,
        "denoise_studio_version": __version__,
        "layers": json.dumps(model.layer_specs()),
        **({"skip": json.dumps(model.skip.spec())} if getattr(model, "skip", None) is not None else {}),
        "input": f"(batch, {model.n_in}) float32 in [0, 1]: images flattened row by row",
        "output": f"(batch, {model.n_out}) float32: the reconstruction",
    }
    for key in ("training", "dataset", "metrics"):
        value = model.metadata.get(key)
        if value:
            props[key] = json.dumps(value, default=str)
    return props


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}"
