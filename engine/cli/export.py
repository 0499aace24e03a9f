"""``denoise-studio export``: write a model as ONNX for other tools (needs the optional ``onnx``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.arguments import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    check_output_name,
    check_writable_output,
    load_model,
    require_denoiser,
)
from engine.output_lock import writing

NAME, HELP = "export", "write a model as ONNX for other tools (needs denoise-studio[onnx])"


def add_arguments(export: argparse.ArgumentParser) -> None:
    export.add_argument("model", help="model file or shipped model name")
    export.add_argument("--output", "-o", help="the .onnx file (default: the model's name with .onnx)")
    export.add_argument("--force", action="store_true", help="replace an existing file not exported by Denoise Studio")


def run(args: argparse.Namespace) -> int:
    from engine.onnx_export import INSTALL_HINT, OnnxUnavailable, export_onnx, is_onnx_export, onnx_available

    if not onnx_available():
        raise UsageError(f"ONNX export needs the onnx package: {INSTALL_HINT}")
    if args.output is not None:
        check_output_name(args.output, "--output")
    model = load_model(args.model)
    require_denoiser(model, "export")
    name = Path(model.path).stem
    output = Path(args.output or f"{name}.onnx")
    if output.is_file() and not is_onnx_export(output) and not args.force:
        raise UsageError(
            f"--output {output} exists and was not exported by Denoise Studio; not replacing it "
            "(choose another name, or pass --force to replace it)"
        )
    check_writable_output(output, "--output")
    try:
        with writing(output):
            export_onnx(model, output, name=name)
    except OnnxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    shape = f"input (batch, {model.n_in}) and output (batch, {model.n_out}) float32"
    print(f"exported {model.path} to {output} (ONNX, {shape})", file=sys.stderr)
    return EXIT_OK
