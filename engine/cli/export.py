"""``denoise-studio export``: write a model as ONNX for other tools (needs the optional ``onnx``), or as one web page
that runs it (``engine.web_export``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from engine.cli.arguments import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    check_output_name,
    check_writable_output,
    load_model,
    require_denoiser,
)
from engine.data_sources import trained_on
from engine.dataset import read_split
from engine.idx import DatasetFileError
from engine.output_lock import writing
from engine.web_export import check_exportable, export_html, holds_float16, is_html_export

NAME, HELP = "export", "write a model as ONNX (needs denoise-studio[onnx]) or as a web page that runs it"
FORMATS = {".onnx": "onnx", ".html": "html", ".htm": "html"}
"""Output extensions and the format each means."""


def add_arguments(export: argparse.ArgumentParser) -> None:
    export.add_argument("model", help="model file or shipped model name")
    export.add_argument(
        "--output", "-o", help="the .onnx or .html file (default: the model's name with the format's extension)"
    )
    export.add_argument(
        "--format", choices=sorted(set(FORMATS.values())),
        help="onnx, or html: one self-contained web page that runs the model offline (default: from the output's "
        "extension, else onnx)",
    )  # fmt: skip
    export.add_argument(
        "--half", action="store_true",
        help="html: store the weights as float16 (half the size) if the test MSE stays within 1%% at the model's "
        "training level and sigma 0.1 to 1.0; refuses otherwise",
    )  # fmt: skip
    export.add_argument("--force", action="store_true", help="replace an existing file not exported by Denoise Studio")


def run(args: argparse.Namespace) -> int:
    if _format(args) == "html":
        return _export_html(args)
    if args.half:
        raise UsageError("--half applies to the web page (--format html or an .html output), not to ONNX")
    from engine.onnx_export import INSTALL_HINT, OnnxUnavailable, export_onnx, is_onnx_export, onnx_available

    if not onnx_available():
        raise UsageError(f"ONNX export needs the onnx package: {INSTALL_HINT}")
    model = _load_denoiser(args)
    name = Path(model.path).stem
    output = _output(args, name, ".onnx", is_onnx_export, "exported by Denoise Studio")
    try:
        with writing(output):
            export_onnx(model, output, name=name)
    except OnnxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    shape = f"input (batch, {model.n_in}) and output (batch, {model.n_out}) float32"
    print(f"exported {model.path} to {output} (ONNX, {shape})", file=sys.stderr)
    return EXIT_OK


def _load_denoiser(args: argparse.Namespace):
    """The model to export, refused in one line before any data is read if it does not map 784 -> 784."""
    if args.output is not None:
        check_output_name(args.output, "--output")
    model = load_model(args.model)
    require_denoiser(model, "export")
    return model


def _format(args: argparse.Namespace) -> str:
    """The format asked for: ``--format``, else the output's extension, else ONNX (the first format there was)."""
    suffix = Path(args.output).suffix.lower() if args.output else ""
    implied = FORMATS.get(suffix)
    if args.format:
        if implied is not None and implied != args.format:
            raise UsageError(f"--output {args.output} does not end in .{args.format} but --format is {args.format}")
        return args.format
    if args.output and implied is None:
        raise UsageError(f"cannot tell the format from --output {args.output}: name it .onnx or .html, or use --format")
    return implied or "onnx"


def _output(args: argparse.Namespace, name: str, extension: str, ours, what: str) -> Path:
    """``--output``, else the model's name with ``extension``; refuses an empty name, a path that cannot be written,
    and an existing file that ``ours(path)`` does not recognise (was not ``what``) unless ``--force``."""
    if args.output is not None and not args.output.strip():
        raise UsageError(f"--output is empty; give a file name such as model{extension}")
    output = Path(args.output or f"{name}{extension}")
    if output.is_file() and not ours(output) and not args.force:
        raise UsageError(
            f"--output {output} exists and was not {what}; not replacing it "
            "(choose another name, or pass --force to replace it)"
        )
    check_writable_output(output, "--output")
    return output


def _export_html(args: argparse.Namespace) -> int:
    model = _load_denoiser(args)
    check_exportable(model)  # before reading the test set: a model the page cannot run is refused at once
    name = Path(model.path).stem
    output = _output(args, name, ".html", is_html_export, "a web page exported by Denoise Studio")
    data_set = trained_on(model.metadata)
    try:
        test_set = read_split("test", dataset=data_set, download=False, progress=False)
    except (DatasetFileError, OSError, ValueError) as exc:
        test_set = None
        if not args.half:
            print(f"note: no test images in the page (drawing only): {exc}", file=sys.stderr)
    with tqdm(total=0, desc="checking float16 weights on the test set", unit="level", file=sys.stderr,
              disable=not args.half or test_set is None, leave=False) as bar:  # fmt: skip

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        with writing(output):
            done = export_html(model, output, half=args.half, test_images=test_set, name=name, progress=progress)
    check = f", test MSE within {done.half_check.worst_change:.3%} of float32" if done.half_check else ""
    print(
        f"exported {model.path} to {output} (web page, {done.size / 1e6:.2f} MB, {done.precision} weights{check}, "
        f"{done.n_test_images} test images)",
        file=sys.stderr,
    )
    if not args.half and holds_float16(model):
        print("note: this model's weights are float16 values already: --half writes a page that computes the same "
              f"at about half the size ({done.size / 2e6:.1f} MB)", file=sys.stderr)  # fmt: skip
    return EXIT_OK
