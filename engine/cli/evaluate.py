"""``denoise-studio evaluate``: a model's test-set MSE and PSNR at given noise levels, or its robustness curve."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from engine.cli.arguments import (
    DATASET_CHOICES,
    EXIT_OK,
    KIND_CHOICES,
    UsageError,
    bounded,
    level_word,
    load_model,
    print_notes,
    require_denoiser,
)
from engine.data_sources import data_source, trained_on
from engine.dataset import Dataset, read_split
from engine.nn import MLP
from engine.noise import NoiseSetting
from engine.robustness import describe, robustness_curve
from engine.run_limits import SIGMA, TEST_SIZE

NAME, HELP = "evaluate", "test-set MSE/PSNR at given noise levels (fixed noise draw)"


def add_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("model", help="model file or shipped model name")
    evaluate.add_argument(
        "--noise", type=bounded(SIGMA), nargs="+", default=[0.1, 0.3, 0.5],
        help=f"noise levels (sigma {SIGMA.describe()}, or fractions of pixels between 0 and 1)",
    )  # fmt: skip
    evaluate.add_argument(
        "--noise-kind", choices=KIND_CHOICES, help="the kind of noise (default: the one the model was trained with)"
    )
    evaluate.add_argument("--test-size", type=bounded(TEST_SIZE), default=TEST_SIZE.high, help="test images to score")
    evaluate.add_argument(
        "--dataset", choices=DATASET_CHOICES, help="the test set (default: the one the model was trained on)"
    )
    evaluate.add_argument("--data", help="the data set's folder")
    evaluate.add_argument("--json", action="store_true", help="print JSON for scripts")
    evaluate.add_argument(
        "--curve", action="store_true", help="test MSE at sigma 0 to 1 beside the noisy input and PCA (robustness)"
    )


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    require_denoiser(model, "evaluate")  # before any data is read
    trained = model.training_noise or NoiseSetting()
    kind = args.noise_kind.replace("-", "_") if args.noise_kind else trained.kind
    if kind != "gaussian" and any(s > 1 for s in args.noise):
        raise UsageError(f"--noise values are fractions of pixels for {args.noise_kind or kind} noise: 0 to 1")
    name = data_source(args.dataset).name if args.dataset else trained_on(model.metadata)
    if args.curve:
        return _print_curve(model, args, name, kind)
    notes: list[str] = []  # only the test images: scoring needs no training set
    test_u8, _ = read_split("test", args.test_size, data_dir=args.data, dataset=name, notes=notes)
    print_notes(notes)
    results = [model.evaluate(test_u8, s, kind=kind) for s in args.noise]
    if args.json:
        finite = [{k: (v if math.isfinite(v) else None) for k, v in r.items()} for r in results]  # strict JSON
        report = {"model": str(args.model), "dataset": name, "noise_kind": kind, "test_size": args.test_size}
        print(json.dumps({**report, "results": finite}, indent=2))
    else:
        print(f"{data_source(name).title} test set ({args.test_size} images), {kind.replace('_', '-')} noise")
        print(f"{level_word(kind):>8} {'MSE':>9} {'PSNR dB':>8} {'noisy MSE':>10}")
        for r in results:
            print(f"{r['noise']:>8.2f} {r['mse']:>9.5f} {r['psnr']:>8.2f} {r['identity_mse']:>10.5f}")
    return EXIT_OK


def _print_curve(model: MLP, args: argparse.Namespace, dataset_name: str, kind: str) -> int:
    """The robustness curve (engine.robustness): one row per level, then where the model wins, in words."""
    dataset = Dataset(dataset_name, train_size=None, test_size=args.test_size, batch_size=1, data_dir=args.data)
    print_notes(dataset.notes)
    curve = robustness_curve(model, dataset.train_u8, dataset.test_u8, kind=kind)
    summary = describe(curve, Path(str(args.model)).stem)
    if args.json:
        payload = {"model": str(args.model), "dataset": dataset.name, "noise_kind": kind, "test_size": args.test_size,
                   "pca_components": curve.components, "curve": curve.rows(), "summary": summary}  # fmt: skip
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    pca = f"PCA-{curve.components}"
    print(f"{level_word(kind):>8} {'model':>9} {'noisy input':>12} {pca:>9}")
    for row in curve.rows():
        pca_text = "-" if row["pca"] is None else f"{row['pca']:.5f}"
        print(f"{row['sigma']:>8.2f} {row['model']:>9.5f} {row['noisy_input']:>12.5f} {pca_text:>9}")
    print(summary)
    return EXIT_OK
