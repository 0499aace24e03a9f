"""Opening the wrong or a damaged model file: always ``ModelFileError`` naming the file and the problem.

The corpus of bad files is generated here (nothing is committed).  Files holding pickles carry
an object whose unpickling would create a marker file, to prove that no code from a model file
ever runs.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.model_format import FORMAT_NAME, FORMAT_VERSION, HEADER_KEY, ModelFileError, read_model
from engine.nn import MLP, build_mlp

WIDTHS, ACTS = [16, 4, 16], ["relu", "sigmoid"]


class MakesMarker:
    """Unpickling this calls ``open(marker, "w")``: the marker file appears if a loader unpickles."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def small_net(seed: int = 0) -> MLP:
    return build_mlp(WIDTHS, ACTS, seed=seed)


def valid_arrays(net: MLP | None = None) -> dict[str, np.ndarray]:
    net = net or small_net()
    arrays = {}
    for i, layer in enumerate(net.layers):
        arrays[f"layer{i}.W"], arrays[f"layer{i}.b"] = layer.W.copy(), layer.b.copy()
    return arrays


def header_bytes(**changes) -> np.ndarray:
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "layers": small_net().layer_specs(),
        "metadata": {},
    }
    header.update(changes)
    return np.frombuffer(json.dumps(header).encode(), np.uint8)


def write_npz(path: Path, payload: dict) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **payload)
    return path


def valid_model_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{HEADER_KEY: header_bytes()}, **valid_arrays())
    return buf.getvalue()


# ----- the corpus: name -> (builder(path, marker) -> path, words the problem must contain) -------------------------


def _truncated(fraction):
    def build(path, marker):
        data = valid_model_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
        return path

    return build


def _npz(header=None, drop=(), extra=None, replace=None, **header_changes):
    def build(path, marker):
        arrays = valid_arrays()
        for key in drop:
            del arrays[key]
        arrays.update(replace or {})
        arrays.update(extra or {})
        payload = {} if header is False else {HEADER_KEY: header_bytes(**header_changes) if header is None else header}
        payload.update(arrays)
        return write_npz(path, payload)

    return build


def _random_bytes(path, marker):
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return path


def _random_after_zip_magic(path, marker):
    path.write_bytes(b"PK\x03\x04" + np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return path


def _empty(path, marker):
    path.write_bytes(b"")
    return path


def _zip_not_npz(path, marker):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("digits/0.png", b"\x89PNG....")
    return path


def _npz_pickled_member(path, marker):
    arrays = valid_arrays()
    arrays["layer0.W"] = np.array([MakesMarker(marker)], dtype=object)
    return write_npz(path, {HEADER_KEY: header_bytes(), **arrays})


def _npz_pickled_header(path, marker):
    return write_npz(path, {HEADER_KEY: np.array([MakesMarker(marker)], dtype=object), **valid_arrays()})


def _np_save_object(path, marker):
    with open(path, "wb") as f:
        np.save(f, np.array([MakesMarker(marker), 1], dtype=object), allow_pickle=True)
    return path


def _pickle_dump(path, marker):
    with open(path, "wb") as f:
        pickle.dump({"layer0.W": MakesMarker(marker)}, f)
    return path


def _pickle_protocol0(path, marker):
    with open(path, "wb") as f:
        pickle.dump(MakesMarker(marker), f, protocol=0)
    return path


def _plain_npy(path, marker):
    with open(path, "wb") as f:
        np.save(f, np.zeros((4, 16), np.float32))
    return path


def _header_not_json(path, marker):
    return write_npz(path, {HEADER_KEY: np.frombuffer(b"{not json", np.uint8), **valid_arrays()})


def _header_not_utf8(path, marker):
    return write_npz(path, {HEADER_KEY: np.frombuffer(b"\xff\xfe\x00{}", np.uint8), **valid_arrays()})


def _header_wrong_dtype(path, marker):
    return write_npz(path, {HEADER_KEY: np.zeros(3, np.float32), **valid_arrays()})


def _header_deeply_nested(path, marker):
    text = b'{"format": "denoise-studio-model", "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    return write_npz(path, {HEADER_KEY: np.frombuffer(text, np.uint8), **valid_arrays()})


def _header_huge_int(path, marker):
    text = b'{"format": "denoise-studio-model", "format_version": ' + b"9" * 5000 + b"}"
    return write_npz(path, {HEADER_KEY: np.frombuffer(text, np.uint8), **valid_arrays()})


def _flipped_weight_byte(path, marker):
    """One byte of the first layer's weights changed, as a bad disk or copy might: only the CRC can tell."""
    data = bytearray(valid_model_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("layer0.W.npy")
    name_length, extra_length = np.frombuffer(bytes(data[info.header_offset + 26 : info.header_offset + 30]), "<u2")
    start = info.header_offset + 30 + int(name_length) + int(extra_length)  # the member's bytes: .npy header, data
    data[start + info.file_size - 3] ^= 0x10  # in the last weight: still a finite float32
    path.write_bytes(bytes(data))
    return path


def _gzip_file(path, marker):
    import gzip

    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07"))
    return path


_good_specs = small_net().layer_specs()
_unchained = [dict(_good_specs[0]), dict(_good_specs[1], n_in=5)]
_bad_activation = [dict(_good_specs[0], activation="swish"), _good_specs[1]]
_alpha_on_relu = [dict(_good_specs[0], alpha=0.1), _good_specs[1]]
_big_f64 = np.full((4, 16), 1e300, np.float64)

CORPUS = {
    "truncated-10%": (_truncated(0.1), ["damaged"]),
    "truncated-50%": (_truncated(0.5), ["damaged"]),
    "truncated-99%": (_truncated(0.99), ["damaged"]),
    "flipped-weight-byte": (_flipped_weight_byte, ["damaged", "CRC"]),
    "random-bytes": (_random_bytes, ["not a Denoise Studio model"]),
    "random-after-zip-magic": (_random_after_zip_magic, ["damaged"]),
    "empty": (_empty, ["empty"]),
    "zip-not-npz": (_zip_not_npz, ["unexpected entry", "not a model"]),
    "gzip": (_gzip_file, ["not a Denoise Studio model"]),
    "npz-without-header": (_npz(header=False), ["no model header"]),
    "header-not-json": (_header_not_json, ["not valid JSON"]),
    "header-not-utf8": (_header_not_utf8, ["not valid JSON"]),
    "header-not-bytes": (_header_wrong_dtype, ["header"]),
    "header-deeply-nested": (_header_deeply_nested, ["header"]),
    "header-huge-int": (_header_huge_int, ["header"]),
    "header-other-format": (_npz(format="keras-model"), ["does not describe"]),
    "header-no-version": (_npz(format_version=None), ["format_version"]),
    "header-version-string": (_npz(format_version="1"), ["format_version"]),
    "header-version-zero": (_npz(format_version=0), ["unknown format version 0"]),
    "header-future-version": (_npz(format_version=FORMAT_VERSION + 1), ["newer", "update Denoise Studio"]),
    "header-no-layers": (_npz(layers=[]), ["no layers"]),
    "header-layers-not-list": (_npz(layers={"a": 1}), ["no layers"]),
    "header-layer-not-dense": (_npz(layers=[{"type": "Conv2D"}]), ["not a valid Dense layer"]),
    "header-negative-width": (_npz(layers=[dict(_good_specs[0], n_out=-4), _good_specs[1]]), ["not a valid Dense"]),
    "header-unchained": (_npz(layers=_unchained), ["layer 1 takes 5 inputs but layer 0 gives 4"]),
    "header-unknown-activation": (_npz(layers=_bad_activation), ["unknown activation"]),
    "header-alpha-on-relu": (_npz(layers=_alpha_on_relu), ["alpha"]),
    "header-metadata-list": (_npz(metadata=[1, 2]), ["metadata"]),
    "missing-array": (_npz(drop=["layer1.b"]), ["array layer1.b is missing"]),
    "extra-array": (_npz(extra={"layer2.W": np.zeros((3, 3), np.float32)}), ["unexpected arrays", "layer2.W"]),
    "wrong-shape": (_npz(replace={"layer0.W": np.zeros((16, 4), np.float32)}), ["layer0.W", "shape (16, 4)"]),
    "wrong-shape-bias": (_npz(replace={"layer1.b": np.zeros((16, 1), np.float32)}), ["layer1.b", "shape"]),
    "wrong-dtype-int": (_npz(replace={"layer0.W": np.zeros((4, 16), np.int32)}), ["layer0.W", "dtype int32"]),
    "wrong-dtype-complex": (_npz(replace={"layer0.b": np.zeros(4, np.complex64)}), ["layer0.b", "dtype"]),
    "wrong-dtype-bytes": (_npz(replace={"layer0.b": np.array([b"ab"] * 4)}), ["layer0.b", "dtype"]),
    "nan-weights": (_npz(replace={"layer0.W": np.full((4, 16), np.nan, np.float32)}), ["layer0.W", "NaN"]),
    "inf-bias": (_npz(replace={"layer1.b": np.full(16, np.inf, np.float32)}), ["layer1.b", "infinite"]),
    "float64-overflowing-float32": (_npz(replace={"layer0.W": _big_f64}), ["layer0.W", "too large"]),
    "optimizer-wrong-shape": (_npz(extra={"optimizer.m": np.zeros(7, np.float32)}), ["optimizer.m", "shape"]),
    "optimizer-nan": (_npz(extra={"optimizer.v": np.full(148, np.nan, np.float32)}), ["optimizer.v", "NaN"]),
    "optimizer-negative-step": (_npz(extra={"optimizer.t": np.array(-3)}), ["optimizer.t"]),
    "pickled-array-in-npz": (_npz_pickled_member, ["pickled"]),
    "pickled-header-in-npz": (_npz_pickled_header, ["pickled"]),
    "np-save-object-array": (_np_save_object, ["pickled"]),
    "pickle-dump": (_pickle_dump, ["pickled"]),
    "pickle-protocol-0": (_pickle_protocol0, ["not a Denoise Studio model"]),
    "plain-npy-array": (_plain_npy, [".npy", "not a Denoise Studio model"]),
}


def test_the_valid_corpus_base_loads(tmp_path):
    """The files above are broken variants of this one, which loads: each failure below is the variant's fault."""
    path = tmp_path / "good.npz"
    path.write_bytes(valid_model_bytes())
    header, arrays = read_model(path)
    assert [spec["n_in"] for spec in header["layers"]] == WIDTHS[:-1]
    net = MLP.from_file(path)
    np.testing.assert_array_equal(net.params, small_net().params)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_model_file_raises_model_file_error(name, tmp_path):
    build, words = CORPUS[name]
    marker = tmp_path / "unpickled.marker"
    path = build(tmp_path / f"{name}.npz", marker)
    with pytest.raises(ModelFileError) as info:
        read_model(path)
    err = info.value
    assert err.path == str(path)
    assert str(path) in str(err)
    for word in words:
        assert word in err.problem, err.problem
    assert not marker.exists(), "code from the file ran"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_loading_a_bad_file_leaves_the_model_unchanged(name, tmp_path):
    build, _ = CORPUS[name]
    marker = tmp_path / "unpickled.marker"
    path = build(tmp_path / f"{name}.npz", marker)
    net = small_net(seed=3)
    before = net.params.copy()
    with pytest.raises(ModelFileError):
        net.load(path, verbose=False)
    np.testing.assert_array_equal(net.params, before)
    assert len(net.layers) == 2
    assert not marker.exists()


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        MLP.from_file(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="file not found"):
        read_model(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="is a folder"):
        read_model(tmp_path)


def test_pickle_marker_would_be_created_by_a_pickle_loader(tmp_path):
    """Control for the marker tests: a loader that does unpickle (np.load allow_pickle=True) creates it."""
    marker = tmp_path / "unpickled.marker"
    path = _np_save_object(tmp_path / "obj.npy", marker)
    np.load(path, allow_pickle=True)
    assert marker.exists()


def test_leaky_relu_alpha_survives_a_round_trip(tmp_path):
    net = build_mlp([16, 4, 16], ["leaky_relu", "sigmoid"], seed=0)
    net.layers[0].activation.alpha = 0.2
    net.save(tmp_path / "m.npz")
    loaded = MLP.from_file(tmp_path / "m.npz")
    assert loaded.layers[0].activation.alpha == pytest.approx(0.2)
    x = np.random.default_rng(0).random((3, 16), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x), net.predict(x), rtol=1e-6)


def test_save_refuses_nan_weights_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.npz"
    net = small_net()
    net.save(path)
    before = path.read_bytes()
    net.params[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        net.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_checkpoint_optimizer_state_round_trips(tmp_path):
    net = small_net()
    state = {"t": np.array(5, np.int64), "m": np.ones(net.n_params, np.float32)}
    net.save(tmp_path / "c.npz", optimizer_state=state, resume={"next_epoch": 1})
    loaded = MLP.from_file(tmp_path / "c.npz")
    assert int(loaded.optimizer_state["t"]) == 5
    np.testing.assert_array_equal(loaded.optimizer_state["m"], state["m"])


# ----- property: any mutation of a valid file either loads cleanly or raises ModelFileError ----------------------

VALID = valid_model_bytes()


@pytest.fixture(scope="module")
def mutation_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutations")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)),
        max_size=4,
    ),
    cut=st.one_of(st.none(), st.integers(0, len(VALID))),
)
def test_mutated_files_load_cleanly_or_raise_model_file_error(mutation_dir, flips, cut):
    data = bytearray(VALID)
    for pos, xor in flips:
        data[pos] ^= xor
    if cut is not None:
        data = data[:cut]
    path = mutation_dir / "mutant.npz"
    path.write_bytes(bytes(data))
    try:
        header, arrays = read_model(path)
    except ModelFileError as exc:
        assert exc.path == str(path)
        return
    for i, spec in enumerate(header["layers"]):
        for key, shape in ((f"layer{i}.W", (spec["n_out"], spec["n_in"])), (f"layer{i}.b", (spec["n_out"],))):
            assert arrays[key].shape == shape
            assert arrays[key].dtype == np.float32
            assert np.all(np.isfinite(arrays[key]))
    net = MLP.from_file(path)  # what the app does with a file that passed
    assert np.all(np.isfinite(net.params))


@settings(max_examples=150, deadline=None)
@given(
    arrays=st.dictionaries(
        st.sampled_from(["layer0.W", "layer0.b", "layer1.W", "layer1.b", "layer2.W", "optimizer.t", "x"]),
        st.sampled_from(
            [
                np.zeros((4, 16), np.float32),
                np.zeros((16, 4), np.float64),
                np.zeros(16, np.float16),
                np.zeros(4, np.int8),
                np.array(3),
                np.array(np.nan),
                np.zeros((0,), np.float32),
            ]
        ),
    )
)
def test_any_array_set_under_a_valid_header_is_checked(mutation_dir, arrays):
    path = write_npz(mutation_dir / "combo.npz", {HEADER_KEY: header_bytes(), **arrays})
    try:
        _, loaded = read_model(path)
    except ModelFileError:
        return
    layer_arrays = {f"layer{i}.{name}" for i in range(len(small_net().layers)) for name in "Wb"}
    assert set(loaded) - {"optimizer.t"} == layer_arrays


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
HEADER_PLACES = [
    ("format",), ("format_version",), ("layers",), ("metadata",), ("layers", 0), ("layers", 1),
    ("layers", 0, "n_in"), ("layers", 0, "n_out"), ("layers", 1, "n_out"), ("layers", 0, "activation"),
    ("layers", 1, "type"), ("layers", 0, "alpha"), ("metadata", "resume"),
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(place=st.sampled_from(HEADER_PLACES), value=JSON_VALUES)
def test_any_value_anywhere_in_the_header_is_checked(mutation_dir, place, value):
    """The CRC protects the bytes, not the meaning: a well-formed archive with a nonsensical header."""
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "layers": small_net().layer_specs(),
        "metadata": {},
    }
    target = header
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    raw = np.frombuffer(json.dumps(header).encode(), np.uint8)
    path = write_npz(mutation_dir / "header.npz", {HEADER_KEY: raw, **valid_arrays()})
    try:
        net = MLP.from_file(path)
    except ModelFileError as exc:
        assert exc.path == str(path)
        return
    assert [layer.W.shape for layer in net.layers] == [(4, 16), (16, 4)]
    assert np.all(np.isfinite(net.params))


def test_non_finite_scores_in_the_metadata_do_not_break_a_save(tmp_path):
    net = small_net()
    net.metadata["metrics"] = {"psnr": float("inf"), "mse": np.float32(0.0), "odd": np.float64("nan")}
    net.metadata["history"] = {"epochs": [{"val_loss": float("nan"), "loss": np.float32(0.5)}]}
    net.save(tmp_path / "m.npz")
    loaded = MLP.from_file(tmp_path / "m.npz")
    assert loaded.metadata["metrics"] == {"psnr": None, "mse": 0.0, "odd": None}
    assert loaded.metadata["history"]["epochs"] == [{"val_loss": None, "loss": 0.5}]


def test_metadata_that_is_not_json_is_a_clear_error_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.npz"
    net = small_net()
    net.save(path)
    before = path.read_bytes()
    net.metadata["callback"] = print
    with pytest.raises(ValueError, match="cannot be stored as JSON"):
        net.save(path)
    assert path.read_bytes() == before
