"""Reconstruction quality of the shipped models against every baseline, across the noise slider: MSE, PSNR, SSIM.

Every score is on all 10,000 test images of the data set each model was trained on, against the clean
images, under the fixed evaluation noise draw (engine.noise.EVAL_NOISE_SEED: one draw, scaled by each
level, the same for every row).  The baselines come from engine.baselines.BaselineBank, fitted or tuned
on the 60,000 training images only: the noisy input, PCA-10 and PCA-64, the best linear denoiser fitted
at each level (and, apart, the one fitted on the range a model trained on, σ ∈ [0, 0.8] for the blind
models), and the median,
Gaussian-blur, total-variation, non-local-means and wavelet filters with their strength picked at each
level.  One set of tables per data set; models trained on it are its rows.  Then, for each model, where
it loses, in words, and the seconds each baseline's curve took (fitting or tuning, then scoring).

    python bench/quality.py [--noise 0 0.05 0.1 ... 1] [--models NAME_OR_PATH ...] [--kind gaussian]
                            [--workers 2] [--blas-threads N] [--markdown] [--goals] [--speed]

``--goals`` checks the issue-16 goals for the blind models; ``--speed`` times, side by side in one process,
engine.metrics.ssim against scikit-image's per-image structural_similarity, a per-image filter in two worker
processes against one, and the best linear fit with one BLAS thread against two.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.baselines import BEST_LINEAR_RANGE, BaselineBank, baseline_names, baseline_title  # noqa: E402
from engine.data_sources import SOURCES, trained_on  # noqa: E402
from engine.dataset import Dataset  # noqa: E402
from engine.model_paths import shipped_models  # noqa: E402
from engine.nn import MLP  # noqa: E402
from engine.robustness import describe_baselines  # noqa: E402

LEVELS = [0.0, 0.05, *(round(0.1 * i, 1) for i in range(1, 11))]
"""0, 0.05 (light noise, where a model that cannot pass its input through loses), then 0.1 to 1 by 0.1."""
PCA_COMPONENTS = (10, 64)
REFERENCE_GOALS = {0.1: 0.0075, 0.3: 0.0100, 0.5: 0.0154, 0.9: 0.0300}
"""Issue 16: the blind large model matches or beats the PyTorch reference at these σ."""
MEASURES = (("mse", "MSE", 4), ("psnr", "PSNR (dB)", 2), ("ssim", "SSIM", 3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=LEVELS, help="levels (default 0, 0.05, 0.1 … 1)")
    parser.add_argument("--kind", default="gaussian", help="noise kind: gaussian, salt-and-pepper, masking")
    parser.add_argument("--models", nargs="+", default=shipped_models(), help="shipped names or model files")
    parser.add_argument("--workers", type=int, default=2, help="processes for the per-image filters")
    parser.add_argument("--blas-threads", type=int, help="BLAS threads for the whole run (default: as it starts)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--goals", action="store_true", help="check the blind models' goals (issue 16)")
    parser.add_argument("--speed", action="store_true", help="time SSIM, the worker processes and the BLAS threads")
    args = parser.parse_args()
    kind = args.kind.replace("-", "_")
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.blas_threads, user_api="blas")
    print_machine()
    if args.speed:
        return time_side_by_side()

    started = time.perf_counter()
    models = {name: MLP.from_file(name) for name in args.models}
    by_set: dict[str, list[str]] = {}
    for name, model in models.items():
        by_set.setdefault(trained_on(model.metadata), []).append(name)
    all_ok = True
    for set_name, names in sorted(by_set.items(), key=lambda item: list(SOURCES).index(item[0])):
        data = Dataset(set_name, train_size=None, test_size=None, progress=False)
        bank = BaselineBank(lambda _name, train=data.train_u8: train, workers=args.workers)
        ranges = sorted({(n.low, n.high) for n in (models[m].training_noise for m in names) if n and n.is_range})
        rows, seconds = baseline_rows(bank, data, args.noise, kind, ranges)
        for name in names:
            results = [models[name].evaluate(data, s, kind=kind) for s in args.noise]
            rows[f"`{Path(name).stem}`"] = {m: np.array([r[m] for r in results]) for m, _, _ in MEASURES}
        print(f"\n## {data.title}: all {data.test_size:,} test images, one fixed {kind} noise draw, "
              f"baselines fitted or tuned on the {data.train_size:,} training images")  # fmt: skip
        for measure, title, digits in MEASURES:
            print(f"\n{title}" + (" (higher is better)" if measure != "mse" else " (lower is better)"))
            table = {label: row[measure] for label, row in rows.items()}
            print_table(table, args.noise, digits, measure, args.markdown)
        print("\nWhere each model loses (MSE; every baseline fitted or tuned at the level it is scored at):")
        for name in names:
            k = models[name].latent_width
            baselines = {n: rows[baseline_title(n)]["mse"] for n in baseline_names(k if k in PCA_COMPONENTS else None)}
            label = f"`{Path(name).stem}`"
            print(f"- {describe_baselines(np.array(args.noise), rows[label]['mse'], baselines, label, kind)}")
        print("\nSeconds for each baseline's curve on all test images (fit or tune at every level, then score):")
        print("\n| baseline | fit / tune | denoise and score | total | per level |")
        print("|---|---|---|---|---|")
        for label, (fit, score) in seconds.items():
            total = fit + score
            print(f"| {label} | {fit:.1f} | {score:.1f} | {total:.1f} | {total / len(args.noise):.2f} |")
        if args.goals and set_name == "mnist":
            all_ok &= check_goals({label: row["mse"] for label, row in rows.items()}, args.noise)
    print(f"\n(numpy {np.__version__}; {time.perf_counter() - started:.0f} s; load average now "
          f"{os.getloadavg()[0]:.1f})")  # fmt: skip
    return 0 if all_ok else 1


def baseline_rows(bank: BaselineBank, data: Dataset, levels: list[float], kind: str, ranges: list[tuple]):
    """{row label: {measure: (levels,) array}} for every baseline (and the linear map fitted on each of
    ``ranges``), and {row label: (fit or tune s, denoise and score s)}."""
    names = ["noisy_input", *(f"pca_{k}" for k in PCA_COMPONENTS), *baseline_names()[1:]]
    rows, seconds = {}, {}
    for name, span in [(n, None) for n in names] + [(BEST_LINEAR_RANGE, r) for r in ranges]:
        label = baseline_title(name)
        if span is not None:
            label = f"best linear denoiser fitted on σ ∈ [{span[0]:g}, {span[1]:g}]"
        started = time.perf_counter()
        for s in levels:  # fit or tune first, timed apart from the scoring
            bank.denoiser(name, kind, s, data.name, noise_range=span)
        fitted = time.perf_counter()
        curve = bank.curve(name, data.test_u8, kind, levels, data.name, noise_range=span)
        seconds[label] = (fitted - started, time.perf_counter() - fitted)
        rows[label] = {"mse": curve.mse, "psnr": curve.psnr, "ssim": curve.ssim}
        print(f"  {label}: {sum(seconds[label]):.1f} s", file=sys.stderr)
    return rows, seconds


def print_table(rows: dict[str, np.ndarray], levels: list[float], digits: int, measure: str, markdown: bool) -> None:
    """A row per method; the best value at each level in bold (Markdown)."""
    values = np.array(list(rows.values()))
    best = np.nanmin(values, axis=0) if measure == "mse" else np.nanmax(values, axis=0)

    def cell(value: float, i: int) -> str:
        text = "inf" if not np.isfinite(value) else f"{value:.{digits}f}"
        return f"**{text}**" if markdown and value == best[i] else text

    if markdown:
        print("| method | " + " | ".join(f"σ = {s:g}" if i == 0 else f"{s:g}" for i, s in enumerate(levels)) + " |")
        print("|---|" + "---|" * len(levels))
        for label, row in rows.items():
            print(f"| {label} | " + " | ".join(cell(v, i) for i, v in enumerate(row)) + " |")
        return
    print(f"{'method':<60}" + "".join(f"{'σ=' + format(s, 'g'):>8}" for s in levels))
    for label, row in rows.items():
        print(f"{label:<60}" + "".join(f"{cell(v, i):>8}" for i, v in enumerate(row)))


def check_goals(rows: dict[str, np.ndarray], levels: list[float]) -> bool:
    """Issue 16's goals for the two blind models, where they are in the table."""
    ok = True
    at = {s: i for i, s in enumerate(levels)}
    noisy, pca10, pca64 = rows[baseline_title("noisy_input")], rows["PCA-10"], rows["PCA-64"]
    large = rows.get("`mnist_denoising_autoencoder_blind`")
    small = rows.get("`mnist_denoising_autoencoder_blind_small`")
    if large is not None:
        for s in (s for s in levels if s >= 0.2 - 1e-9):
            i = at[s]
            good = large[i] < pca64[i] and large[i] < noisy[i]
            ok &= good
            if not good:
                print(f"  goal missed: blind at σ {s:g}: {large[i]:.4f} vs PCA-64 {pca64[i]:.4f}, noisy {noisy[i]:.4f}")
        for s, goal in REFERENCE_GOALS.items():
            if s in at:
                good = large[at[s]] <= goal
                ok &= good
                print(f"  blind at σ {s:g}: {large[at[s]]:.4f} (goal ≤ {goal}) {'met' if good else 'MISSED'}")
    if small is not None:
        for s in (s for s in levels if s >= 0.1 - 1e-9):
            good = small[at[s]] < pca10[at[s]]
            ok &= good
            if not good:
                print(f"  goal missed: blind_small at σ {s:g}: {small[at[s]]:.4f} vs PCA-10 {pca10[at[s]]:.4f}")
    print("  goals: " + ("all met" if ok else "NOT all met"))
    return ok


def print_machine() -> None:
    from threadpoolctl import threadpool_info

    blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
    print(f"machine: {os.cpu_count()} cores, BLAS {blas}, load average {os.getloadavg()[0]:.2f}")


def time_side_by_side(rounds: int = 3) -> int:
    """Pairs timed alternately in one process, so load falls on both sides alike (MNIST, σ 0.5): SSIM of the
    10,000 test images ours against scikit-image per image; total variation on them in 2 worker processes
    against 1; the best linear denoiser's fit on the 60,000 training images with 1 BLAS thread against 2."""
    from skimage.metrics import structural_similarity
    from threadpoolctl import threadpool_limits

    from engine.classical import apply_filter, worker_pool
    from engine.linear_denoiser import fit_linear_denoiser
    from engine.metrics import ssim
    from engine.noise import fixed_noisy

    data = Dataset("mnist", progress=False)
    clean = data.test_u8.astype(np.float32) / 255
    noisy = fixed_noisy(clean, 0.5)
    pairs = list(zip(noisy.reshape(-1, 28, 28), clean.reshape(-1, 28, 28), strict=True))
    times: dict[str, list[float]] = {}

    def timed(label: str, fn):
        started = time.perf_counter()
        value = fn()
        times.setdefault(label, []).append(time.perf_counter() - started)
        return value

    def fit(threads: int):
        with threadpool_limits(limits=threads, user_api="blas"):
            return fit_linear_denoiser(data.train_u8, 0.5)

    with worker_pool(2) as pool:
        apply_filter("total_variation", 0.2, noisy[:500], executor=pool)  # start the workers before timing
        for _ in range(rounds):
            ours = timed("SSIM: engine.metrics.ssim, all images at once", lambda: ssim(noisy, clean))
            theirs = timed("SSIM: skimage structural_similarity, image by image",
                           lambda: np.mean([structural_similarity(p, t, data_range=1.0) for p, t in pairs]))
            timed("total-variation filter (weight 0.2): 1 process", lambda: apply_filter("total_variation", 0.2, noisy))
            timed("total-variation filter (weight 0.2): 2 worker processes",
                  lambda: apply_filter("total_variation", 0.2, noisy, executor=pool))  # fmt: skip
            timed("best linear fit (60,000 images): 1 BLAS thread", lambda: fit(1))
            timed("best linear fit (60,000 images): 2 BLAS threads", lambda: fit(2))
    print(f"SSIM: ours {ours:.6f}, scikit-image {theirs:.6f} (difference {abs(ours - theirs):.1e})")
    print("\n| on MNIST, σ 0.5 | median s | all rounds |")
    print("|---|---|---|")
    for label, values in times.items():
        print(f"| {label} | {np.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
