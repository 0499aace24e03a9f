"""Time to the full set of robustness curves in the app (issue 25): the model's and every baseline's on 10,000 images.

Computes what Denoise ▸ Robustness computes, the way it does, from a fresh ``BaselineBank`` (nothing kept): on one
thread the model's curve with the noisy input's and PCA's (MSE and SSIM; ``robustness_curve``), on a second thread
each fitted baseline one after another (``BaselineBank.curve``: the best linear denoiser fitted at each level, each
classical filter tuned at each level on ``APP_TUNE_IMAGES`` training images; the per-image filters scoring the fixed
subset ``curve_images`` gives, in two worker processes), all at ``engine.robustness.APP_LEVELS``.  BLAS runs on one
thread, as in the app.  Prints each curve's seconds from the start, the wall time to the last one, the load, and
with ``--check-subset`` how far a subsampled filter's curve is from the same filter scored on every test image
(``--check-levels 0.1 0.5 1`` at a few levels only: scoring all 10,000 images through a per-image filter is slow).
``--check-tuning`` instead checks that the per-image filters' walk into their valley of errors
(``engine.classical.valley_floor``) picks what trying every strength picks, at every level, on MNIST and (where
it is found) Fashion-MNIST, tuned on the app's and the CLI's number of images, and counts the filtering it saves.
CPU seconds are given beside each wall time (each curve's thread; the whole run's with the worker processes).

    DENOISE_STUDIO_DATA=../shared/data/mnist python bench/app_baselines.py [--model NAME] [--check-subset
        [--check-levels LEVEL ...]] [--check-tuning]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from engine.baselines import (  # noqa: E402
    APP_TUNE_IMAGES,
    BEST_LINEAR,
    CLASSICAL,
    TUNE_IMAGES,
    BaselineBank,
    curve_images,
)
from engine.classical import FILTERS, tune_filter  # noqa: E402
from engine.dataset import read_split  # noqa: E402
from engine.nn import MLP  # noqa: E402
from engine.robustness import APP_LEVELS, robustness_curve  # noqa: E402


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def children_cpu() -> float:
    """CPU seconds of this process's ended children (the filters' worker processes, once their pool shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist_denoising_autoencoder_gated")
    parser.add_argument("--workers", type=int, default=2, help="processes for the per-image filters (the app's: 2)")
    parser.add_argument("--check-subset", action="store_true",
                        help="also score each per-image filter on all test images and print the largest difference")
    parser.add_argument("--check-levels", type=float, nargs="+", metavar="LEVEL",
                        help="the levels --check-subset scores at (default: the panel's 13; all 10,000 images "
                        "through a per-image filter takes minutes a level)")  # fmt: skip
    parser.add_argument("--check-tuning", action="store_true",
                        help="check the per-image filters' tuning walk against trying every strength")  # fmt: skip
    args = parser.parse_args()
    threadpool_limits(limits=1, user_api="blas")
    blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()
            if i.get("user_api") == "blas"]  # fmt: skip
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; Python "
          f"{platform.python_version()}, NumPy {np.__version__}; BLAS {blas}")  # fmt: skip
    print(f"load average at start: {load()}")
    if args.check_tuning:
        return check_tuning(args.workers)
    train = read_split("train", progress=False)[0]
    test = read_split("test", progress=False)[0]
    model = MLP.from_file(args.model)
    bank = BaselineBank(lambda name: train, workers=args.workers, tune_images=APP_TUNE_IMAGES)
    done: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds of each curve: its thread's, and its worker processes'
    start, start_cpu, start_children = time.perf_counter(), time.process_time(), children_cpu()

    def model_curve() -> None:
        begin = time.thread_time()
        pca = bank.pca(model.latent_width) if model.latent_width < 784 else None
        robustness_curve(model, train, test, APP_LEVELS, ssim=True, pca=pca)
        done["model, noisy input, PCA"] = time.perf_counter() - start
        cpu["model, noisy input, PCA"] = time.thread_time() - begin

    def baselines() -> None:
        for name in (BEST_LINEAR, *CLASSICAL):
            chosen = curve_images(name, test)
            begin, begin_children = time.thread_time(), children_cpu()
            bank.curve(name, chosen, "gaussian", APP_LEVELS)
            label = f"{name} ({len(chosen):,} images)"
            done[label] = time.perf_counter() - start
            cpu[label] = time.thread_time() - begin + children_cpu() - begin_children
            print(f"  {name}: ready at {done[label]:.1f} s, {cpu[label]:.1f} CPU s (load {load()})", flush=True)

    threads = [threading.Thread(target=model_curve), threading.Thread(target=baselines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - start
    bank.close()  # the kept worker processes end: only an ended process's CPU time can be read
    total_cpu = time.process_time() - start_cpu + children_cpu() - start_children
    print(f"\n{len(APP_LEVELS)} levels, model {args.model}; each curve ready at (s from the start), its CPU s "
          "(its thread's; the kept worker processes' count in the total only):")  # fmt: skip
    for name, seconds in sorted(done.items(), key=lambda item: item[1]):
        print(f"| {name} | {seconds:.1f} | {cpu[name]:.1f} |")
    print(f"full set of curves: {total:.1f} s wall, {total_cpu:.1f} CPU s (this process and its workers); "
          f"load average at the end: {load()}")  # fmt: skip
    if args.check_subset:
        levels = APP_LEVELS if args.check_levels is None else tuple(args.check_levels)
        for name in CLASSICAL:
            part = curve_images(name, test)
            if len(part) == len(test):
                continue
            whole, sub = bank.curve(name, test, "gaussian", levels), bank.curve(name, part, "gaussian", levels)
            gap = np.abs(whole.mse - sub.mse) / np.maximum(whole.mse, 1e-12)
            print(f"{name}: subset MSE within {100 * np.max(gap):.1f} % of all {len(test):,} images' at every level "
                  f"of {', '.join(f'{v:g}' for v in levels)}")  # fmt: skip
            for level, w, s, g in zip(levels, whole.mse, sub.mse, gap, strict=True):
                print(f"|   {name} | {level:g} | {w:.5f} | {s:.5f} | {100 * g:.1f} % |", flush=True)
    return 0


def check_tuning(workers: int) -> int:
    """Walked and exhaustive picks of each one-valley filter at every app level; exit 1 on any difference."""
    from concurrent.futures import ProcessPoolExecutor

    differ = 0
    for dataset in ("mnist", "fashion_mnist"):
        try:
            train = read_split("train", dataset=dataset, progress=False)[0]
        except (OSError, ValueError) as error:
            print(f"{dataset}: not checked ({error})")
            continue
        for images in (APP_TUNE_IMAGES, TUNE_IMAGES):
            bank = BaselineBank(lambda name, train=train: train, workers=1, tune_images=images)
            walked_runs = every_runs = 0
            began = time.perf_counter()
            with ProcessPoolExecutor(workers) as pool:
                for level in APP_LEVELS[1:]:
                    clean, noisy = bank.tuning_pair("gaussian", level, dataset)
                    for name, spec in FILTERS.items():
                        if not spec.one_valley:
                            continue
                        runs = []
                        walked = tune_filter(name, clean, noisy, executor=pool, progress=runs.append)
                        every = tune_filter(name, clean, noisy, executor=pool, every_strength=True)
                        known = round(runs[-2] * len(spec.grid))  # its last report: errors known / grid
                        walked_runs += known - 1  # less no filtering's, known without a filter
                        every_runs += len(spec.grid) - 1
                        if walked != every:
                            differ += 1
                            print(f"  DIFFER {dataset} {images} images σ {level:g} {name}: walked {walked.strength:g}, "
                                  f"every strength {every.strength:g}")  # fmt: skip
            print(
                f"{dataset}, tuned on {images} images, {len(APP_LEVELS) - 1} levels: strengths filtered "
                f"{walked_runs} walking, {every_runs} trying every one ({time.perf_counter() - began:.0f} s)"
            )
    print("every walked pick equals the exhaustive one" if differ == 0 else f"{differ} picks differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
