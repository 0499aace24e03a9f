"""Hostile files, made small at run time (nothing committed): model files that declare negative or huge
sizes, wide float16 zeros, nested headers, gzip bombs in the data folder, crafted checkpoints.

Each builder writes its file under a folder and returns ``(how to load it, path)``; ``tests/engine/
test_crafted_files.py`` loads each in a child process and checks the peak memory, and
``bench/crafted_files.py`` times them.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from engine.data_sources import DATA_ENV, MNIST_FILES
from engine.model_format import FORMAT_NAME, FORMAT_VERSION, HEADER_KEY
from engine.model_limits import MAX_WIDTH
from engine.nn import build_mlp

ZEROS = bytes(2**20)


def npy_header(shape: tuple, descr: str = "<f4") -> bytes:
    """A version-1.0 ``.npy`` preamble declaring ``shape`` (which may be negative: numpy would not write it)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def write_member(zf: zipfile.ZipFile, name: str, header: bytes, zeros: int, *, compress: bool = True) -> None:
    """A member of ``header`` followed by ``zeros`` zero bytes, streamed (never held in memory)."""
    info = zipfile.ZipInfo(f"{name}.npy")
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zf.open(info, "w", force_zip64=len(header) + zeros > 2**31) as out:
        out.write(header)
        left = zeros
        while left:
            out.write(ZEROS[: min(left, len(ZEROS))])
            left -= min(left, len(ZEROS))


def header_json(layers: list[dict], metadata: dict | None = None) -> bytes:
    return json.dumps(
        {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "layers": layers, "metadata": metadata or {}}
    ).encode()


def dense(n_in: int, n_out: int, activation: str = "relu") -> dict:
    return {"type": "Dense", "n_in": n_in, "n_out": n_out, "activation": activation}


def model_zip(path: Path, header: bytes, members: dict[str, tuple[bytes, int]], *, compress: bool = True) -> Path:
    """An archive with a real ``__header__`` member and ``members`` = {name: (npy header, zero bytes)}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{HEADER_KEY}.npy", npy_header((len(header),), "|u1") + header)
        for name, (npy, zeros) in members.items():
            write_member(zf, name, npy, zeros, compress=compress)
    return path


def small_layers() -> tuple[list[dict], dict[str, tuple[bytes, int]]]:
    """A valid 784-8-784 model's specs and members (float32 zeros)."""
    layers = [dense(784, 8), dense(8, 784, "sigmoid")]
    members = {}
    for i, spec in enumerate(layers):
        members[f"layer{i}.W"] = (npy_header((spec["n_out"], spec["n_in"])), 4 * spec["n_out"] * spec["n_in"])
        members[f"layer{i}.b"] = (npy_header((spec["n_out"],)), 4 * spec["n_out"])
    return layers, members


# ----- model files: (path) -> path ------------------------------------------------------------------------------


def negative_shape_header(path: Path, compress: bool = False) -> Path:
    """``__header__`` declares shape (-1,): a negative byte count that once made ``read(-1)`` inflate it all
    (1 MiB stored, or 64 MiB deflated into 65 KB)."""
    with zipfile.ZipFile(path, "w") as zf:
        write_member(zf, HEADER_KEY, npy_header((-1,), "|u1"), (64 if compress else 1) * 2**20, compress=compress)
    return path


def negative_shape_optimizer(path: Path) -> Path:
    layers, members = small_layers()
    members["optimizer.m_sum"] = (npy_header((-1,)), 64 * 2**10)
    return model_zip(path, header_json(layers), members, compress=False)


def negative_shape_layer(path: Path) -> Path:
    layers, members = small_layers()
    members["layer0.W"] = (npy_header((-8, 784)), 8 * 2**10)
    return model_zip(path, header_json(layers), members, compress=False)


def lying_declared_size(path: Path) -> Path:
    """A layer whose .npy header is right but whose zip entry holds 4 MiB of zeros after it."""
    layers, members = small_layers()
    members["layer0.W"] = (npy_header((8, 784)), 4 * 2**20)
    return model_zip(path, header_json(layers), members, compress=False)


def float16_zero_members(layers: list[dict]) -> dict:
    """Each layer's W and b as float16 zeros: honest headers, sizes that match them."""
    members = {}
    for i, spec in enumerate(layers):
        members[f"layer{i}.W"] = (npy_header((spec["n_out"], spec["n_in"]), "<f2"), 2 * spec["n_out"] * spec["n_in"])
        members[f"layer{i}.b"] = (npy_header((spec["n_out"],), "<f2"), 2 * spec["n_out"])
    return members


def wide_float16_zeros(path: Path, width: int = 100_000) -> Path:
    """784 -> 100,000 -> 784 of float16 zeros (157 MB a matrix) deflated into a few hundred KB."""
    layers = [dense(784, width), dense(width, 784, "sigmoid")]
    return model_zip(path, header_json(layers), float16_zero_members(layers))


def zeros_at_the_limits(path: Path) -> Path:
    """784 -> 16,384 -> 784, the widest model there may be, of float16 zeros deflated into ~50 KB: every header,
    shape and size in it is allowed, so only the archive's inflation bound stops 51 MB (then 103 MB of float32)
    coming out of it."""
    layers = [dense(784, MAX_WIDTH), dense(MAX_WIDTH, 784, "sigmoid")]
    return model_zip(path, header_json(layers), float16_zero_members(layers))


def too_many_parameters(path: Path) -> Path:
    """Widths within the cap, 79 million parameters in all: refused from the header, nothing inflated."""
    layers = [dense(784, 8192), dense(8192, 8192), dense(8192, 784, "sigmoid")]
    return model_zip(path, header_json(layers), float16_zero_members(layers))


def wide_stored_uncompressed(path: Path, width: int = 20_000) -> Path:
    """A plain (uncompressed) 784 -> 20,000 -> 784 float16 model, 63 MB on disk: wider than any model may be."""
    layers = [dense(784, width), dense(width, 784, "sigmoid")]
    return model_zip(path, header_json(layers), float16_zero_members(layers), compress=False)


def nested_header(path: Path) -> Path:
    """A 123 KB header of ``[[[[...]]]]`` 61,000 deep."""
    text = b'{"format": "denoise-studio-model", "metadata": ' + b"[" * 61_000 + b"]" * 61_000 + b"}"
    _, members = small_layers()
    return model_zip(path, text, members)


def many_lists_header(path: Path) -> Path:
    """A 1.5 MB header of 500,000 empty lists (each costs ~60 bytes parsed)."""
    layers, members = small_layers()
    text = header_json(layers, {"x": "LISTS"}).replace(b'"LISTS"', b"[" + b",".join([b"[]"] * 500_000) + b"]")
    return model_zip(path, text, members, compress=False)


def huge_header(path: Path) -> Path:
    """A header member declaring 32 MiB (of zero bytes), deflated to ~32 KB."""
    with zipfile.ZipFile(path, "w") as zf:
        write_member(zf, HEADER_KEY, npy_header((32 * 2**20,), "|u1"), 32 * 2**20)
    return path


def bzip2_member(path: Path) -> Path:
    """A member compressed with bzip2, which inflates a whole read at once (numpy never writes it)."""
    layers, _ = small_layers()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr(f"{HEADER_KEY}.npy", npy_header((16 * 2**20,), "|u1") + bytes(16 * 2**20))
    return path


def oversized_header(path: Path, size: int = 40 * 2**20) -> Path:
    """A header member stored plainly, 40 MiB that its ``.npy`` header honestly declares (a header may hold 2 MiB):
    nothing about the archive is wrong, so only the array's own size check stands between it and 40 MiB read,
    copied and scanned before the header's size is looked at."""
    with zipfile.ZipFile(path, "w") as zf:
        write_member(zf, HEADER_KEY, npy_header((size,), "|u1"), size, compress=False)
    return path


def _patch_central_entry(path: Path, name: str, offset: int, fmt: str, value: int) -> Path:
    """Overwrite one field (``offset`` bytes into its central-directory entry, struct ``fmt``) of member ``name``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        at, count = zf.start_dir, len(zf.infolist())
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + name_length] == f"{name}.npy".encode():
            struct.pack_into(fmt, data, at + offset, value)
            path.write_bytes(bytes(data))
            return path
        at += 46 + name_length + extra_length + comment_length
    raise KeyError(name)


def encrypted_member(path: Path) -> Path:
    """A valid small model whose first layer's entry is flagged as encrypted (zipfile would ask for a password)."""
    layers, members = small_layers()
    model_zip(path, header_json(layers), members, compress=False)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("layer0.W.npy")
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, info.header_offset + 6, info.flag_bits | 0x1)  # the local header's flags
    path.write_bytes(bytes(data))
    return _patch_central_entry(path, "layer0.W", 8, "<H", info.flag_bits | 0x1)  # and the central directory's


def compressed_size_past_the_end(path: Path) -> Path:
    """A valid small model whose first layer's entry claims 1 MiB of compressed data in a 55 KB file (an entry
    overlapping others, or a file cut short): the data it holds is intact, so nothing else notices."""
    layers, members = small_layers()
    model_zip(path, header_json(layers), members, compress=False)
    return _patch_central_entry(path, "layer0.W", 20, "<L", 2**20)


def member_cut_short(path: Path) -> Path:
    """A valid small model whose first layer's entry ends 1,000 bytes early: its compressed size says so, and its
    CRC is that of what is there, so zipfile reads it without complaint and only the length read tells."""
    layers, members = small_layers()
    model_zip(path, header_json(layers), members, compress=False)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("layer0.W.npy")
        with zf.open(info) as member:
            held = member.read()[:-1000]
    _patch_central_entry(path, "layer0.W", 16, "<L", zlib.crc32(held))
    return _patch_central_entry(path, "layer0.W", 20, "<L", len(held))


def huge_npy_header(path: Path, length: int = 40 * 2**20) -> Path:
    """A header member whose ``.npy`` preamble (version 2) announces a 40 MiB header dict, stored plainly (a
    ``.npy`` header has a few hundred bytes; numpy reads at most 10,000): refused before any of it is read."""
    text = b"{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }"
    with zipfile.ZipFile(path, "w") as zf:
        preamble = b"\x93NUMPY\x02\x00" + struct.pack("<I", length) + text
        write_member(zf, HEADER_KEY, preamble, length - len(text), compress=False)
    return path


def many_entries(path: Path) -> Path:
    """50,000 empty entries (a model has at most 2,009): listing them would cost ~25 MB of Python objects."""
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(50_000):
            zf.writestr(zipfile.ZipInfo(f"{i}.npy"), b"")
    return path


def many_short_entries(path: Path) -> Path:
    """3,000 empty entries with short names: more entries than a model has (2,009), in a central directory well
    within its size bound (~150 KB): only the entry count refuses it."""
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(3_000):
            zf.writestr(zipfile.ZipInfo(f"{i}.npy"), b"")
    return path


def long_named_entries(path: Path) -> Path:
    """1,800 empty entries (fewer than a model may have) whose 600-character names make a central directory of
    ~1.2 MB, past the bound of 512 bytes an entry: only the directory's size refuses it."""
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(1_800):
            zf.writestr(zipfile.ZipInfo(f"{i:04d}{'x' * 600}.npy"), b"")
    return path


def duplicate_member(path: Path) -> Path:
    """A valid small model whose archive holds ``layer0.b.npy`` twice (zip readers differ on which copy counts)."""
    layers, members = small_layers()
    model_zip(path, header_json(layers), members, compress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate name: the point of the file
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("layer0.b.npy", npy_header((8,)) + np.ones(8, "<f4").tobytes())
    return path


MODEL_FILES = {
    "negative-shape-header": (negative_shape_header, "negative"),
    "negative-shape-header-deflated": (lambda path: negative_shape_header(path, compress=True), "inflate"),
    "negative-shape-optimizer": (negative_shape_optimizer, "negative"),
    "negative-shape-layer": (negative_shape_layer, "negative"),
    # the entry-size check (``nbytes != info.file_size - header_size``): its entry holds more than its header says
    "lying-declared-size": (lying_declared_size, "but its entry holds"),
    "wide-float16-zeros": (wide_float16_zeros, "inflate"),
    "too-many-parameters": (too_many_parameters, "inflate"),
    "zeros-at-the-limits": (zeros_at_the_limits, "inflate"),  # the inflation bound, the only one: it would load
    "wide-stored-uncompressed": (wide_stored_uncompressed, "at most 16384 wide"),
    "nested-header": (nested_header, "nested"),
    "many-lists-header": (many_lists_header, "lists and objects"),
    "huge-header": (huge_header, "inflate"),
    "bzip2-member": (bzip2_member, "compression"),
    "many-entries": (many_entries, "entries"),
    # the member count's two halves, each the only one to refuse its file: the entries, the directory's size
    "many-short-entries": (many_short_entries, "lists 3,000 entries"),
    "long-named-entries": (long_named_entries, "lists 1,800 entries"),
    "duplicate-member": (duplicate_member, "two entries named"),
    # the array-size check (``nbytes > max_bytes``), the only one: header and entry agree, the archive is plain
    "oversized-header": (oversized_header, "claims 41,943,040 bytes"),
    "encrypted-member": (encrypted_member, "is encrypted"),  # zipfile would refuse it too, but as damage
    "compressed-size-past-the-end": (compressed_size_past_the_end, "entries claim"),  # nothing else notices
    "member-cut-short": (member_cut_short, "is cut short"),  # else a NumPy reshape error
    "huge-npy-header": (huge_npy_header, ".npy header of 41,943,040 bytes"),  # else 40 MiB read, then refused
}
"""name -> (builder, words the one-line error must hold after the file's name: the check that refuses it)."""


# ----- data files: a folder of MNIST files, one of which is a bomb ---------------------------------------------


def gzip_of_zeros(header: bytes, zeros: int) -> bytes:
    """gzip of ``header`` + ``zeros`` zero bytes, compressed a block at a time."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [comp.compress(header)]
    block = bytes(16 * 2**20)
    left = zeros
    while left:
        out.append(comp.compress(block[: min(left, len(block))]))
        left -= min(left, len(block))
    out.append(comp.flush())
    return b"".join(out)


def idx_header(*shape: int) -> bytes:
    return bytes([0, 0, 8, len(shape)]) + np.array(shape, ">u4").tobytes()


def data_folder(folder: Path, data: bytes, key: str = "train_images") -> Path:
    """The four MNIST files (tiny and valid) with ``data`` as the file of role ``key`` (``MNIST_FILES``)."""
    from tests.conftest import make_tiny_mnist

    make_tiny_mnist(folder)
    gz = folder / f"{MNIST_FILES[key]}.gz"
    if not data.startswith(b"\x1f\x8b"):  # a plain IDX file goes under the plain name
        gz.unlink()
        gz = gz.with_suffix("")
    gz.write_bytes(data)
    return folder


def data_command(key: str, folder: Path, out: Path) -> list[str]:
    """A command that reads the file of role ``key``: ``train`` reads all four, ``evaluate`` the test set only."""
    if key.startswith("train"):
        return ["train", "--quiet", "--data", str(folder), "-o", str(out)]
    return ["evaluate", "mnist_denoising_autoencoder", "--test-size", "16", "--data", str(folder)]


DATA_BOMBS = {
    # the real file's header, then 200 MB of zeros (200 KB compressed): stops at 47 MB, what the header allows
    "gzip-bomb-mnist-header": (lambda: gzip_of_zeros(idx_header(60000, 28, 28), 200 * 2**20), "gzip bomb",
                               "train_images"),
    # a header claiming 100 images, then 200 MB of zeros: stops after 78 KB
    "gzip-bomb-small-header": (lambda: gzip_of_zeros(idx_header(100, 28, 28), 200 * 2**20), "gzip bomb",
                               "train_images"),
    # a header claiming 4 x (2**32 - 1): refused before anything is inflated
    "gzip-huge-header": (lambda: gzip_of_zeros(idx_header(*[2**32 - 1] * 4), 200 * 2**20), "more than the 60,000",
                         "train_images"),
    # plain, not gzip: a header claiming 10,000 images then 120 MB (the file size is checked before reading)
    "plain-oversized": (lambda: idx_header(10000, 28, 28) + bytes(120 * 2**20), "header says", "train_images"),
    # the training set's shape (47 MB of zeros) as the test images: refused from its header, nothing inflated
    "test-images-claiming-60000": (lambda: gzip_of_zeros(idx_header(60000, 28, 28), 60000 * 784),
                                   "more than the 10,000", "test_images"),
    # 200,000 labels where the training labels belong (more than any official file)
    "labels-claiming-200000": (lambda: gzip_of_zeros(idx_header(200_000), 200_000), "more than the 60,000",
                               "train_labels"),
}  # fmt: skip
"""name -> (bytes of the file, a word the one-line error must hold, the role it is put in)."""


# ----- crafted checkpoints: (folder) -> path --------------------------------------------------------------------


def checkpoint(folder: Path, name: str, *, metadata=None, resume=None, optimizer=None) -> Path:
    net = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    net.metadata = dict(metadata or {})
    path = folder / f"{name}.ckpt.npz"
    net.save(path, optimizer_state=optimizer, resume=resume)
    return path


_CONFIG = {"epochs": 3, "batch_size": 8}
_N_PARAMS = 784 * 8 + 8 + 8 * 784 + 784
CHECKPOINTS = {
    "dataset-a-list": dict(metadata={"dataset": [1, 2]}, resume={"next_epoch": 1, "config": _CONFIG}),
    "history-epochs-ints": dict(resume={"next_epoch": 1, "config": _CONFIG, "history": {"epochs": [1, 2]}}),
    "step-count-2**64-1": dict(
        resume={"next_epoch": 1, "config": _CONFIG}, optimizer={"t": np.array(2**64 - 1, np.uint64)}
    ),
    "batch-losses-strings": dict(
        resume={"next_epoch": 1, "config": _CONFIG,
                "history": {"epochs": [{"epoch": 0, "batches": 2}], "batch_loss": ["a", "b"]}}
    ),  # fmt: skip
    "batch-losses-null": dict(
        resume={"next_epoch": 1, "config": _CONFIG,
                "history": {"epochs": [{"epoch": 0, "batches": 1}], "batch_loss": [None]}}
    ),  # fmt: skip
    "next-epoch-10**30": dict(resume={"next_epoch": 10**30, "config": _CONFIG}),
    "moments-as-int8": dict(
        resume={"next_epoch": 1, "config": _CONFIG},
        optimizer={"t": np.array(3), "m_sum": np.zeros(_N_PARAMS, np.int8), "v_sum": np.zeros(_N_PARAMS, np.float32)},
    ),
}




# ----- pictures: (path) -> path; read by the app's picture reader (Qt) -----------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(path: Path, width: int, height: int, *, color: int = 2, depth: int = 8, ink: bool = True) -> Path:
    """A valid PNG (``color`` 0 grey, 2 RGB, 6 RGBA; ``depth`` 8 or 16 bits) of light paper with a dark bar in
    the middle third when ``ink``: ~0.3 MB for 9000×9000 RGB, made in a fraction of a second.

    Each row but three repeats the one above it, stored with the PNG filter "up" as zeros; a run of such rows
    is deflated once (a full flush makes the block stand alone) and the block repeated."""
    channels = {0: 1, 2: 3, 6: 4}[color]
    row_bytes = width * channels * depth // 8
    paper = b"\xf0" * row_bytes
    bar = bytearray(paper)
    if ink:
        bar[row_bytes // 3 : 2 * row_bytes // 3] = bytes(2 * row_bytes // 3 - row_bytes // 3)
    same = b"\x02" + bytes(row_bytes)  # filter "up": the row above again
    starts = {0: b"\x00" + paper, height // 3: b"\x00" + bytes(bar), 2 * height // 3: b"\x00" + paper}
    blocks, adler = [], 1
    run = 64

    def deflated(data: bytes) -> bytes:
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        return comp.compress(data) + comp.flush(zlib.Z_FULL_FLUSH)

    block = deflated(same * run)
    y = 0
    while y < height:
        if y in starts:
            blocks.append(deflated(starts[y]))
            adler = zlib.adler32(starts[y], adler)
            y += 1
            continue
        stop = min([height] + [k for k in starts if k > y])
        n = stop - y
        blocks += [block] * (n // run) + ([deflated(same * (n % run))] if n % run else [])
        for _ in range(n // run):
            adler = zlib.adler32(same * run, adler)
        adler = zlib.adler32(same * (n % run), adler)
        y = stop
    idat = b"\x78\x9c" + b"".join(blocks) + b"\x03\x00" + struct.pack(">I", adler)  # the final, empty block
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
                     + _png_chunk(b"IEND", b""))  # fmt: skip
    return path


def png_header(path: Path, width: int = 65500, height: int = 65500) -> Path:
    """A PNG whose header claims ``width`` × ``height`` over a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(bytes(1000))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", data)
                     + _png_chunk(b"IEND", b""))  # fmt: skip
    return path


def jpeg_header(path: Path, width: int = 65500, height: int = 65500) -> Path:
    """A small grey JPEG (Qt writes it) whose frame header is changed to claim ``width`` × ``height``."""
    from PySide6.QtGui import QColor, QImage

    small = QImage(16, 16, QImage.Format.Format_Grayscale8)
    small.fill(QColor(128, 128, 128))
    assert small.save(str(path), "JPEG")
    data = bytearray(path.read_bytes())
    sof = next(i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC1, 0xC2))
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def gif_header(path: Path, side: int = 65535) -> Path:
    """A GIF whose screen and image claim ``side`` × ``side`` over one pixel's worth of data."""
    screen = struct.pack("<HHBBB", side, side, 0, 0, 0)
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, side, side, 0) + b"\x02\x02\x44\x01\x00"
    path.write_bytes(b"GIF89a" + screen + image + b"\x3b")
    return path


def bmp_header(path: Path, side: int = 65500) -> Path:
    """A 24-bit BMP whose header claims ``side`` × ``side`` (12.9 GB of pixels) over 16 bytes."""
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, 0, 2835, 2835, 0, 0)
    path.write_bytes(b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + bytes(16))
    return path


PICTURES = {
    "png-9000x9000-rgb": (lambda path: png(path, 9000, 9000), None),
    "png-20000x20000-grey": (lambda path: png(path, 20000, 20000, color=0), "too large (20000×20000"),
    "png-header-65500x65500": (png_header, "too large (65500×65500"),
    "jpeg-header-65500x65500": (jpeg_header, "too large (65500×65500"),
    "gif-header-65535x65535": (gif_header, "too large (65535×65535"),
    "bmp-header-65500x65500": (bmp_header, "could not be decoded"),
    "png-8000x8000-rgb16": (lambda path: png(path, 8000, 8000, depth=16), "at 16 bits a channel, more than 50"),
}
"""name -> (builder, a word the refusal must hold, or None: the picture loads)."""
PICTURES_AT_THE_LIMIT = {
    "png-10000x10000-rgba": (lambda path: png(path, 10_000, 10_000, color=6), None),
    "png-7071x7071-rgba16": (lambda path: png(path, 7071, 7071, color=6, depth=16), None),
}
"""The costliest pictures that load (100 megapixels of 8-bit RGBA, 50 of 16-bit): benchmarked, not tested (each
takes ~0.8 GB while it is read)."""

PICTURE_CHILD = (
    "import atexit, sys, time\n"
    "def peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kb = [line.split()[1] for line in f if line.startswith('VmHWM:')][0]\n"
    "    print('PEAK_KB', kb, file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "from gui.denoise.picture_import import PictureError, load_picture\n"
    "started = time.perf_counter()\n"
    "try:\n"
    "    picture = load_picture(sys.argv[1], 'picture')\n"
    "    print('LOADED', *picture.size, file=sys.stderr)\n"
    "except PictureError as exc:\n"
    "    print('REFUSED', exc.problem, file=sys.stderr)\n"
    "print('SECONDS', time.perf_counter() - started, file=sys.stderr)\n"
)
"""Reads one picture as the app does (``gui.denoise.picture_import.load_picture``) and reports its peak memory."""


def run_picture(path: Path) -> tuple[str, float, float]:
    """The app's picture reader on ``path`` in a fresh process (Linux): ("LOADED w h" or "REFUSED <problem>",
    peak RSS in MB, seconds the read took)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "QT_LOGGING_RULES": "qt.*=false"}
    proc = subprocess.run([sys.executable, "-c", PICTURE_CHILD, str(path)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    lines = proc.stderr.splitlines()
    outcome = [line for line in lines if line.startswith(("LOADED", "REFUSED"))]
    peak = [line for line in lines if line.startswith("PEAK_KB ")]
    seconds = [line for line in lines if line.startswith("SECONDS ")]
    assert outcome and peak and seconds, proc.stderr
    return outcome[0], int(peak[0].split()[1]) / 1024, float(seconds[0].split()[1])


# ----- running the CLI on them in a fresh process ---------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
CHILD = (
    "import atexit, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kb = [line.split()[1] for line in f if line.startswith('VmHWM:')][0]\n"
    "    print('PEAK_KB', kb, file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "from engine.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
"""The child reports its ``VmHWM`` (peak resident memory, interpreter and NumPy included) as it exits; not
``ru_maxrss``, which Linux carries over from a parent that started the child with vfork."""


def run_cli(*argv: str, data: Path | None = None) -> tuple[int, str, float, float]:
    """``denoise-studio ARGV`` in a fresh process (Linux): (exit code, stderr without the memory line,
    peak RSS in MB, wall seconds)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if data is not None:
        env[DATA_ENV] = str(data)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, *argv], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    seconds = time.perf_counter() - started
    lines = proc.stderr.splitlines()
    peak = [line for line in lines if line.startswith("PEAK_KB ")]
    assert peak, proc.stderr
    err = "\n".join(line for line in lines if not line.startswith("PEAK_KB "))
    return proc.returncode, err, int(peak[0].split()[1]) / 1024, seconds
