"""Reconstruction quality of the shipped models against the noisy input and PCA, across the noise slider.

Every score is the test-set MSE against the clean images, under the fixed evaluation noise
draw (engine.noise.EVAL_NOISE_SEED: one draw, the same for every row), on all 10,000 test images
of the data set each model was trained on; PCA with 10 and 64 components is fitted on all 60,000
clean training images (engine.baselines, the same numbers the app shows).  One table per data
set; models trained on it are its rows.  ``--goals`` checks the issue-16 goals for the blind
models.

    python bench/quality.py [--noise 0 0.1 ... 1] [--models NAME_OR_PATH ...] [--kind gaussian]
                            [--markdown] [--goals]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.baselines import baselines  # noqa: E402
from engine.dataset import Dataset, trained_on  # noqa: E402
from engine.download import SOURCES  # noqa: E402
from engine.model_paths import shipped_models  # noqa: E402
from engine.nn import MLP  # noqa: E402

LEVELS = [round(0.1 * i, 1) for i in range(11)]
PCA_COMPONENTS = (10, 64)
REFERENCE_GOALS = {0.1: 0.0075, 0.3: 0.0100, 0.5: 0.0154, 0.9: 0.0300}
"""Issue 16: the blind large model matches or beats the PyTorch reference at these σ."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=LEVELS, help="noise levels (default 0 to 1 by 0.1)")
    parser.add_argument("--kind", default="gaussian", help="noise kind: gaussian, salt-and-pepper, masking")
    parser.add_argument("--models", nargs="+", default=shipped_models(), help="shipped names or model files")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--goals", action="store_true", help="check the blind models' goals (issue 16)")
    args = parser.parse_args()
    kind = args.kind.replace("-", "_")

    started = time.perf_counter()
    models = {name: MLP.from_file(name) for name in args.models}
    by_set: dict[str, list[str]] = {}
    for name, model in models.items():
        by_set.setdefault(trained_on(model.metadata), []).append(name)
    all_ok = True
    for set_name, names in sorted(by_set.items(), key=lambda item: list(SOURCES).index(item[0])):
        data = Dataset(set_name, progress=False)
        rows: dict[str, dict[float, float]] = {}
        for s in args.noise:
            for k in PCA_COMPONENTS:
                b = baselines(data.train_u8, data.test_u8, s, k, kind)
                rows.setdefault("noisy input (do nothing)", {})[s] = b.noisy_input
                rows.setdefault(f"PCA-{k}", {})[s] = b.pca
        for name in names:
            rows[Path(name).stem] = {s: models[name].evaluate(data, s, kind=kind)["mse"] for s in args.noise}
        print(f"\n{data.title}: test-set MSE, all {data.test_size:,} test images, one fixed {kind} noise draw")
        print_table(rows, args.noise, args.markdown)
        if args.goals and set_name == "mnist":
            all_ok &= check_goals(rows, args.noise)
    print(f"\n(numpy {np.__version__}; {time.perf_counter() - started:.0f} s)")
    return 0 if all_ok else 1


def print_table(rows: dict[str, dict[float, float]], levels: list[float], markdown: bool) -> None:
    if markdown:
        print("| method | " + " | ".join(f"σ = {s:g}" for s in levels) + " |")
        print("|---|" + "---|" * len(levels))
        for label, scores in rows.items():
            print(f"| {label} | " + " | ".join(f"{scores[s]:.4f}" for s in levels) + " |")
        return
    print(f"{'method':<44}" + "".join(f"{'σ=' + format(s, 'g'):>8}" for s in levels))
    for label, scores in rows.items():
        print(f"{label:<44}" + "".join(f"{scores[s]:>8.4f}" for s in levels))


def check_goals(rows: dict[str, dict[float, float]], levels: list[float]) -> bool:
    """Issue 16's goals for the two blind models, where they are in the table."""
    ok = True
    noisy, pca10, pca64 = rows["noisy input (do nothing)"], rows["PCA-10"], rows["PCA-64"]
    large = rows.get("mnist_denoising_autoencoder_blind")
    small = rows.get("mnist_denoising_autoencoder_blind_small")
    if large is not None:
        for s in (s for s in levels if s >= 0.2 - 1e-9):
            good = large[s] < pca64[s] and large[s] < noisy[s]
            ok &= good
            if not good:
                print(f"  goal missed: blind at σ {s:g}: {large[s]:.4f} vs PCA-64 {pca64[s]:.4f}, noisy {noisy[s]:.4f}")
        for s, goal in REFERENCE_GOALS.items():
            if s in large:
                good = large[s] <= goal
                ok &= good
                print(f"  blind at σ {s:g}: {large[s]:.4f} (goal ≤ {goal}) {'met' if good else 'MISSED'}")
    if small is not None:
        for s in (s for s in levels if s >= 0.1 - 1e-9):
            good = small[s] < pca10[s]
            ok &= good
            if not good:
                print(f"  goal missed: blind_small at σ {s:g}: {small[s]:.4f} vs PCA-10 {pca10[s]:.4f}")
    print("  goals: " + ("all met" if ok else "NOT all met"))
    return ok


if __name__ == "__main__":
    sys.exit(main())
