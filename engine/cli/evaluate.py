"""``denoise-studio evaluate``: a model's test-set MSE, PSNR and SSIM at given noise levels, or its robustness
curve; with ``--baselines``, every baseline of ``engine.baselines`` scored beside it.

Only the test images are read, unless something must be fitted: PCA for ``--curve``, and the best
linear denoiser and the classical filters' strengths for ``--baselines`` are fitted on the training
images (said on stderr); the test images are only scored.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from engine.baselines import BEST_LINEAR_RANGE, NOISY_INPUT, BaselineBank, baseline_names, baseline_title, pca_name
from engine.cli.arguments import DATASET_CHOICES, EXIT_OK, KIND_CHOICES, UsageError, level_word
from engine.dataset import read_split, trained_on
from engine.download import data_source
from engine.nn import MLP
from engine.noise import NoiseSetting
from engine.robustness import describe, describe_baselines, robustness_curve

NAME, HELP = "evaluate", "test-set MSE/PSNR/SSIM at given noise levels (fixed noise draw), beside the baselines"
SHORT = {NOISY_INPUT: "noisy", "best_linear": "linear", BEST_LINEAR_RANGE: "lin-range", "median": "median",
         "gaussian_blur": "blur", "total_variation": "TV", "nl_means": "NL-means", "wavelet": "wavelet"}  # fmt: skip
"""Column headings of the text tables."""


def add_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("model", help="model file or shipped model name")
    evaluate.add_argument("--noise", type=float, nargs="+", default=[0.1, 0.3, 0.5], help="noise levels")
    evaluate.add_argument(
        "--noise-kind", choices=KIND_CHOICES, help="the kind of noise (default: the one the model was trained with)"
    )
    evaluate.add_argument("--test-size", type=int, default=10000)
    evaluate.add_argument(
        "--dataset", choices=DATASET_CHOICES, help="the test set (default: the one the model was trained on)"
    )
    evaluate.add_argument("--data", help="the data set's folder")
    evaluate.add_argument("--json", action="store_true", help="print JSON for scripts")
    evaluate.add_argument(
        "--curve", action="store_true", help="test MSE at sigma 0 to 1 beside the noisy input and PCA (robustness)"
    )
    evaluate.add_argument(
        "--baselines",
        action="store_true",
        help="score every baseline beside the model: the best linear denoiser fitted at each level, median, "
        "Gaussian blur, total variation, non-local means and wavelet filters tuned at each level (all fitted or "
        "tuned on the training images; minutes with --curve)",
    )
    evaluate.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes for the slow classical filters (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    model = MLP.from_file(args.model)
    if not 1 <= args.test_size <= 10000:
        raise UsageError(f"--test-size must be between 1 and 10000, got {args.test_size}")
    if any(s < 0 for s in args.noise):
        raise UsageError("--noise values must be >= 0")
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    trained = model.training_noise or NoiseSetting()
    kind = args.noise_kind.replace("-", "_") if args.noise_kind else trained.kind
    if kind != "gaussian" and any(s > 1 for s in args.noise):
        raise UsageError(f"--noise values are fractions of pixels for {args.noise_kind or kind} noise: 0 to 1")
    source = data_source(args.dataset) if args.dataset else data_source(trained_on(model.metadata))
    test = read_split("test", args.test_size, data_dir=args.data, dataset=source.name)[0]
    bank = None
    if args.curve or args.baselines:
        train = read_split("train", data_dir=args.data, dataset=source.name)[0]
        if args.baselines:
            print(f"fitting and tuning the baselines on the {len(train):,} {source.title} training images "
                  f"(the {len(test):,} test images are only scored)", file=sys.stderr)  # fmt: skip
        bank = BaselineBank(lambda _name: train, workers=args.workers)
    names = _baseline_names(model, trained, kind) if args.baselines else ()
    context = {"model": str(args.model), "dataset": source.name, "noise_kind": kind, "test_size": len(test)}
    if args.curve:
        return _print_curve(model, args, source, kind, test, bank, names, context)
    results = [model.evaluate(test, s, kind=kind) for s in args.noise]
    for result in results:
        if names:
            noise_range = (trained.low, trained.high)
            with _Bar(len(names), f"baselines at {level_word(kind)} {result['noise']:g}") as bar:
                result["baselines"] = {
                    name: _scored(bank, name, test, kind, result["noise"], source.name, noise_range, bar.piece(i))
                    for i, name in enumerate(names)
                }
    if args.json:
        print(json.dumps({**context, "results": [_finite(r) for r in results]}, indent=2))
        return EXIT_OK
    print(f"{source.title} test set ({len(test)} images), {kind.replace('_', '-')} noise")
    if not names:
        print(f"{level_word(kind):>8} {'MSE':>9} {'PSNR dB':>8} {'SSIM':>7} {'noisy MSE':>10}")
        for r in results:
            print(f"{r['noise']:>8.2f} {r['mse']:>9.5f} {r['psnr']:>8.2f} {r['ssim']:>7.4f} {r['identity_mse']:>10.5f}")
        return EXIT_OK
    stem = Path(str(args.model)).stem
    for r in results:
        print(f"\n{level_word(kind)} {r['noise']:g}:")
        print(f"  {'':<44} {'MSE':>9} {'PSNR dB':>8} {'SSIM':>7}  setting")
        print(f"  {stem:<44} {r['mse']:>9.5f} {r['psnr']:>8.2f} {r['ssim']:>7.4f}  the model")
        for name, s in r["baselines"].items():
            print(f"  {baseline_title(name):<44} {s['mse']:>9.5f} {s['psnr']:>8.2f} {s['ssim']:>7.4f}  {s['setting']}")
    return EXIT_OK


def _print_curve(model, args, source, kind: str, test, bank: BaselineBank, names, context: dict) -> int:
    """The robustness curve (engine.robustness) with MSE, PSNR and SSIM, then where the model wins, in words."""
    k = model.latent_width
    pca = bank.pca(k, source.name) if k < test.shape[1] else None
    curve = robustness_curve(model, None, test, kind=kind, ssim=True, pca=pca)
    stem = Path(str(args.model)).stem
    scores = {"model": curve.scores("model"), NOISY_INPUT: curve.scores("noisy_input")}
    mse = {"model": curve.model, NOISY_INPUT: curve.noisy_input}
    if curve.pca is not None:
        scores[pca_name(k)], mse[pca_name(k)] = curve.scores("pca"), curve.pca
    trained = model.training_noise or NoiseSetting()
    todo = [n for n in names if n not in scores]
    with _Bar(len(todo), "baseline curves") as bar:
        for i, name in enumerate(todo):
            baseline = bank.curve(name, test, kind, curve.sigmas, source.name, noise_range=(trained.low, trained.high),
                                  progress=bar.piece(i))  # fmt: skip
            scores[name], mse[name] = baseline.as_dict(), baseline.mse
    if names:
        baselines = {n: mse[n] for n in mse if n != "model"}
        summary = describe_baselines(curve.sigmas, curve.model, baselines, stem, kind)
    else:
        summary = describe(curve, stem)
    if args.json:
        payload = {**context, "pca_components": curve.components, "curve": curve.rows(), "scores": scores,
                   "summary": summary}  # fmt: skip
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    if not names:
        pca = f"PCA-{curve.components}"
        print(f"{level_word(kind):>8} {'model':>9} {'PSNR dB':>8} {'SSIM':>7} {'noisy input':>12} {pca:>9}")
        for i, row in enumerate(curve.rows()):
            pca_text = "-" if row["pca"] is None else f"{row['pca']:.5f}"
            model_psnr, model_ssim = scores["model"]["psnr"][i], scores["model"]["ssim"][i]
            print(f"{row['sigma']:>8.2f} {row['model']:>9.5f} {_number(model_psnr, 8, 2)} {model_ssim:>7.4f} "
                  f"{row['noisy_input']:>12.5f} {pca_text:>9}")  # fmt: skip
    else:
        _print_tables(curve.sigmas, scores, kind, k)
    print(summary)
    return EXIT_OK


def _print_tables(sigmas: np.ndarray, scores: dict, kind: str, k: int) -> None:
    """One table per measure (MSE, PSNR, SSIM): a row per level, a column per method."""
    heads = {name: "model" if name == "model" else SHORT.get(name, f"PCA-{k}") for name in scores}
    for measure, digits in (("mse", 5), ("psnr", 2), ("ssim", 4)):
        print(f"\ntest {measure.upper()}" + (" (dB)" if measure == "psnr" else ""))
        print(f"{level_word(kind):>8}" + "".join(f"{heads[n]:>10}" for n in scores))
        for i, sigma in enumerate(sigmas):
            print(f"{sigma:>8.2f}" + "".join(_number(scores[n][measure][i], 10, digits) for n in scores))


def _baseline_names(model: MLP, trained: NoiseSetting, kind: str) -> tuple[str, ...]:
    """Every baseline for this model: PCA with its code's width; the range's linear map for a model trained
    on a range of this kind of noise."""
    names = baseline_names(model.latent_width)
    return names + ((BEST_LINEAR_RANGE,) if trained.is_range and trained.kind == kind else ())


def _scored(bank: BaselineBank, name, test, kind, level, dataset, noise_range, progress) -> dict:
    fitted = bank.denoiser(name, kind, level, dataset, noise_range=noise_range)
    scores = bank.scores(name, test, kind, level, dataset, noise_range=noise_range, progress=progress)
    return {**scores.as_dict(), "setting": fitted.setting}


def _finite(result: dict) -> dict:
    """Strict JSON: NaN and infinities (a perfect PSNR) as None, nested dicts too."""
    return {k: _finite(v) if isinstance(v, dict) else (v if not isinstance(v, float) or math.isfinite(v) else None)
            for k, v in result.items()}  # fmt: skip


def _number(value: float | None, width: int, digits: int) -> str:
    return f"{'inf':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


class _Bar:
    """A progress bar on stderr over several pieces of work (shown only on a terminal)."""

    def __init__(self, pieces: int, description: str) -> None:
        self.pieces, self.description = pieces, description

    def __enter__(self) -> _Bar:
        from tqdm import tqdm

        self.bar = tqdm(total=max(self.pieces, 1), desc=self.description, file=sys.stderr, disable=None,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()

    def piece(self, index: int):
        """A progress callback for piece ``index``: its 0 to 1 moves the bar from ``index`` to ``index + 1``."""

        def progress(fraction: float) -> None:
            self.bar.n = index + fraction
            self.bar.refresh()

        return progress
