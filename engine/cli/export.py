"""``denoise-studio export``: write a model as ONNX for other tools (needs the optional ``onnx``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.arguments import EXIT_OK, UsageError, check_writable_output
from engine.nn import MLP

NAME, HELP = "export", "write a model as ONNX for other tools (needs denoise-studio[onnx])"


def add_arguments(export: argparse.ArgumentParser) -> None:
    export.add_argument("model", help="model file or shipped model name")
    export.add_argument("--output", "-o", help="the .onnx file (default: the model's name with .onnx)")
    export.add_argument("--force", action="store_true", help="replace an existing file not exported by Denoise Studio")


def run(args: argparse.Namespace) -> int:
    from engine.onnx_export import INSTALL_HINT, export_onnx, is_onnx_export, onnx_available

    if not onnx_available():
        raise UsageError(f"ONNX export needs the onnx package: {INSTALL_HINT}")
    model = MLP.from_file(args.model)
    name = Path(model.path).stem
    if args.output is not None and not args.output.strip():
        raise UsageError("--output is empty; give a file name such as model.onnx")
    output = Path(args.output or f"{name}.onnx")
    if output.is_file() and not is_onnx_export(output) and not args.force:
        raise UsageError(
            f"--output {output} exists and was not exported by Denoise Studio; not replacing it "
            "(choose another name, or pass --force to replace it)"
        )
    check_writable_output(output, "--output")
    export_onnx(model, output, name=name)
    print(f"exported {model.path} to {output} (ONNX, input and output (batch, 784) float32)", file=sys.stderr)
    return EXIT_OK
