"""``denoise-studio evaluate``: a model's test-set MSE, PSNR and SSIM at given noise levels, or its robustness
curve; with ``--baselines``, every baseline of ``engine.baselines`` scored beside it.

Only the test images are read, unless something must be fitted: PCA for ``--curve``, and the best linear
denoiser and the classical filters' strengths for ``--baselines`` are fitted on the training images (said
on stderr); the test images are only scored.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from engine.baselines import (
    BEST_LINEAR_RANGE,
    DEFAULT_LEVELS,
    NOISY_INPUT,
    BaselineBank,
    baseline_names,
    baseline_title,
    pca_name,
)
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
from engine.data_sources import DataSource, data_source, trained_on
from engine.dataset import read_split
from engine.nn import MLP
from engine.noise import NoiseSetting
from engine.robustness import describe, describe_baselines, robustness_curve
from engine.run_limits import SIGMA, TEST_SIZE

NAME, HELP = "evaluate", "test-set MSE/PSNR/SSIM at given noise levels (fixed noise draw), beside the baselines"
SHORT = {NOISY_INPUT: "noisy", "best_linear": "linear", BEST_LINEAR_RANGE: "lin-range", "median": "median",
         "gaussian_blur": "blur", "total_variation": "TV", "nl_means": "NL-means", "wavelet": "wavelet"}  # fmt: skip
"""Column headings of the text tables."""


def add_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("model", help="model file or shipped model name")
    evaluate.add_argument(
        "--noise", type=bounded(SIGMA), nargs="+",
        help=f"noise levels (sigma {SIGMA.describe()}, or fractions of pixels between 0 and 1; default 0.1 0.3 0.5, "
        "for --curve 0 to 1 by 0.05)",
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
        "--curve", action="store_true", help="test scores at every --noise level beside the noisy input and PCA"
    )
    evaluate.add_argument(
        "--baselines",
        action="store_true",
        help="score every baseline beside the model: the best linear denoiser fitted at each level; median, "
        "Gaussian blur, total variation, non-local means and wavelet filters tuned at each level (fitted and "
        "tuned on the training images; minutes with --curve on the full test set)",
    )
    evaluate.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes for the slow classical filters (default: %(default)s)",
    )


@dataclass
class _Evaluation:
    """What every report needs: the model, the noise, the data set, its test images, the baselines' bank."""

    model: MLP
    stem: str
    kind: str
    trained: NoiseSetting
    source: DataSource
    test: np.ndarray
    bank: BaselineBank | None
    names: tuple[str, ...]

    @property
    def context(self) -> dict:
        return {"dataset": self.source.name, "noise_kind": self.kind, "test_size": len(self.test)}

    @property
    def noise_range(self) -> tuple[float, float]:
        return self.trained.low, self.trained.high


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    require_denoiser(model, "evaluate")  # before any data is read
    trained = model.training_noise or NoiseSetting()
    kind = args.noise_kind.replace("-", "_") if args.noise_kind else trained.kind
    levels = _check_arguments(args, kind)
    source = data_source(args.dataset) if args.dataset else data_source(trained_on(model.metadata))
    notes: list[str] = []
    test = read_split("test", args.test_size, data_dir=args.data, dataset=source.name, notes=notes)[0]
    bank = None
    if args.curve or args.baselines:  # PCA, the linear maps and the filters' strengths: from the training images
        train = read_split("train", data_dir=args.data, dataset=source.name, notes=notes)[0]
        if args.baselines:
            print(f"fitting and tuning the baselines on the {len(train):,} {source.title} training images "
                  f"(the {len(test):,} test images are only scored)", file=sys.stderr)  # fmt: skip
        bank = BaselineBank(lambda _name: train, workers=args.workers)
    print_notes(notes)
    names = _baseline_names(model, trained, kind) if args.baselines else ()
    job = _Evaluation(model, Path(str(args.model)).stem, kind, trained, source, test, bank, names)
    report = _curve_report if args.curve else _levels_report
    with threadpool_limits(limits=1, user_api="blas"):  # as training: a second BLAS thread only spins on a busy
        return report(job, levels, args.json, {"model": str(args.model), **job.context})  # machine (docs/benchmarks)


def _check_arguments(args: argparse.Namespace, kind: str) -> list[float]:
    """The levels to score at, the flags checked (``UsageError`` with a reason)."""
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    levels = args.noise if args.noise is not None else list(DEFAULT_LEVELS) if args.curve else [0.1, 0.3, 0.5]
    if kind != "gaussian" and any(s > 1 for s in levels):
        raise UsageError(f"--noise values are fractions of pixels for {kind.replace('_', '-')} noise: 0 to 1")
    if args.curve and (len(levels) < 2 or any(b <= a for a, b in zip(levels, levels[1:], strict=False))):
        raise UsageError("--curve needs at least two increasing --noise levels")
    return levels


def _levels_report(job: _Evaluation, levels: list[float], as_json: bool, context: dict) -> int:
    """The model's scores at each level; with baselines, a table per level of every method's scores."""
    results = [job.model.evaluate(job.test, s, kind=job.kind) for s in levels]
    for result in results if job.names else ():
        with _Bar(len(job.names), f"baselines at {level_word(job.kind)} {result['noise']:g}") as bar:
            result["baselines"] = {name: _scored(job, name, result["noise"], bar.piece(i))
                                   for i, name in enumerate(job.names)}  # fmt: skip
    if as_json:
        print(json.dumps({**context, "results": [_finite(r) for r in results]}, indent=2))
        return EXIT_OK
    print(f"{job.source.title} test set ({len(job.test)} images), {job.kind.replace('_', '-')} noise")
    if not job.names:
        print(f"{level_word(job.kind):>8} {'MSE':>9} {'PSNR dB':>8} {'SSIM':>7} {'noisy MSE':>10}")
        for r in results:
            print(f"{r['noise']:>8.2f} {r['mse']:>9.5f} {_number(r['psnr'], 8, 2)} {r['ssim']:>7.4f} "
                  f"{r['identity_mse']:>10.5f}")  # fmt: skip
        return EXIT_OK
    for r in results:
        print(f"\n{level_word(job.kind)} {r['noise']:g}:")
        print(f"  {'':<44} {'MSE':>9} {'PSNR dB':>8} {'SSIM':>7}  setting")
        rows = [(job.stem, r, "the model")] + [(baseline_title(n), s, s["setting"]) for n, s in r["baselines"].items()]
        for title, s, setting in rows:
            print(f"  {title:<44} {s['mse']:>9.5f} {_number(s['psnr'], 8, 2)} {s['ssim']:>7.4f}  {setting}")
    return EXIT_OK


def _curve_report(job: _Evaluation, levels: list[float], as_json: bool, context: dict) -> int:
    """The robustness curve (engine.robustness) with MSE, PSNR and SSIM, every baseline's curve beside it with
    ``--baselines``, then where the model wins, in words."""
    k = job.model.latent_width
    pca = job.bank.pca(k, job.source.name) if k < job.test.shape[1] else None
    curve = robustness_curve(job.model, None, job.test, levels, kind=job.kind, ssim=True, pca=pca)
    scores = {"model": curve.scores("model"), NOISY_INPUT: curve.scores("noisy_input")}
    errors = {NOISY_INPUT: curve.noisy_input}
    if curve.pca is not None:
        scores[pca_name(k)], errors[pca_name(k)] = curve.scores("pca"), curve.pca
    todo = [n for n in job.names if n not in scores]
    with _Bar(len(todo), "baseline curves") as bar:
        for i, name in enumerate(todo):
            baseline = job.bank.curve(name, job.test, job.kind, curve.sigmas, job.source.name,
                                      noise_range=job.noise_range, progress=bar.piece(i))  # fmt: skip
            scores[name], errors[name] = baseline.as_dict(), baseline.mse
    if job.names:
        summary = describe_baselines(curve.sigmas, curve.model, errors, job.stem, job.kind)
    else:
        summary = describe(curve, job.stem)
    if as_json:
        payload = {**context, "pca_components": curve.components, "curve": curve.rows(), "scores": scores,
                   "summary": summary}  # fmt: skip
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    if job.names:
        _print_tables(curve.sigmas, scores, job.kind, k)
    else:
        pca_head = f"PCA-{curve.components}"
        print(f"{level_word(job.kind):>8} {'model':>9} {'PSNR dB':>8} {'SSIM':>7} {'noisy input':>12} {pca_head:>9}")
        for i, row in enumerate(curve.rows()):
            pca_text = "-" if row["pca"] is None else f"{row['pca']:.5f}"
            model_psnr, model_ssim = scores["model"]["psnr"][i], scores["model"]["ssim"][i]
            print(f"{row['sigma']:>8.2f} {row['model']:>9.5f} {_number(model_psnr, 8, 2)} {model_ssim:>7.4f} "
                  f"{row['noisy_input']:>12.5f} {pca_text:>9}")  # fmt: skip
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


def _scored(job: _Evaluation, name: str, level: float, progress) -> dict:
    """``{"mse", "psnr", "ssim", "setting"}`` of baseline ``name`` at ``level``."""
    dataset, noise_range = job.source.name, job.noise_range
    fitted = job.bank.denoiser(name, job.kind, level, dataset, noise_range=noise_range)
    scores = job.bank.scores(name, job.test, job.kind, level, dataset, noise_range=noise_range, progress=progress)
    return {**scores.as_dict(), "setting": fitted.setting}


def _finite(result: dict) -> dict:
    """Strict JSON: NaN and infinities (a perfect PSNR) as None, nested dicts too."""
    return {k: _finite(v) if isinstance(v, dict) else (v if not isinstance(v, float) or math.isfinite(v) else None)
            for k, v in result.items()}  # fmt: skip


def _number(value: float | None, width: int, digits: int) -> str:
    """A right-aligned figure; an infinite PSNR (a perfect match, None in JSON) as "inf"."""
    if value is None or not math.isfinite(value):
        return f"{'inf':>{width}}"
    return f"{value:>{width}.{digits}f}"


class _Bar:
    """A progress bar on stderr over several pieces of work (drawn only on a terminal)."""

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
