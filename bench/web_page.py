"""The exported web page in headless Chromium: file size per shipped model, time to the first reconstruction after
opening, time per redraw while drawing.

    .venv/bin/python bench/web_page.py                              # every shipped model, 5 rounds
    .venv/bin/python bench/web_page.py --rounds 9 --screenshots docs  # and the docs' screenshots of the page
    .venv/bin/python bench/web_page.py --models mnist_denoising_autoencoder_blind mnist_denoising_autoencoder_gated

Needs Debian's ``chromium`` and ``chromium-driver`` and the test extra (``selenium``); MNIST (``DENOISE_STUDIO_DATA``)
for the test images and the ``--half`` check (Fashion-MNIST, ``DENOISE_STUDIO_FASHION_MNIST_DATA``, for its model).

1. Size: each shipped model exported as float32 and with ``--half`` (float16 after the check on the whole test set;
   a refusal is reported with its figure).
2. Opening: the page's own clock (``performance.now()``, from navigation start) when the first reconstruction has
   been computed and painted (``window.denoiseStudio.timings().opened``): the file read and parsed, the weights
   decoded, the network built, a test digit prepared, noised and denoised.  Every page (float32 and --half) is
   opened once per round, the models interleaved, in one browser; median and max over the rounds.
3. Drawing: a stroke of ``--moves`` pointer moves (Selenium actions: real pointer events) over a cleared canvas.  The
   page redraws once per animation frame while the stroke goes on — canvas pixels -> 28×28 -> noise -> network ->
   the three images painted — and logs each redraw's time; median, p95 and max over every redraw of every round.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data_sources import trained_on  # noqa: E402
from engine.dataset import read_split  # noqa: E402
from engine.idx import DatasetFileError  # noqa: E402
from engine.model_paths import shipped_models  # noqa: E402
from engine.nn import MLP  # noqa: E402
from engine.web_export import WebExportError, export_html  # noqa: E402
from tests.web.browser import Page, start_chromium  # noqa: E402


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def spiral(moves: int) -> list[tuple[int, int]]:
    """Offsets from the canvas's centre (CSS pixels) along a digit-sized spiral."""
    return [(round(30 * (1 + t / moves * 3) * math.cos(t / 9)), round(30 * (1 + t / moves * 3) * math.sin(t / 9)))
            for t in range(moves)]  # fmt: skip


def stroke(driver, points: list[tuple[int, int]]) -> None:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "canvas")
    actions = ActionBuilder(driver, mouse=PointerInput("mouse", "mouse"), duration=16)  # a move a frame, as a hand
    actions.pointer_action.move_to(canvas, *points[0]).pointer_down()
    for x, y in points[1:]:
        actions.pointer_action.move_to(canvas, x, y)
    actions.pointer_action.pointer_up()
    actions.perform()


def export_pages(folder: Path, names: list[str]) -> list[dict]:
    """Each of the shipped models ``names`` as a float32 page and, when the check passes, a float16 one."""
    pages = []
    for name in names:
        model = MLP.from_file(name)
        data_set = trained_on(model.metadata)
        try:
            test_set = read_split("test", dataset=data_set, download=False, progress=False)
        except (DatasetFileError, OSError) as exc:
            print(f"note: {name}: no {data_set} test set ({exc}); drawing-only page, no --half", file=sys.stderr)
            test_set = None
        row = {"name": name, "params": model.n_params, "file": Path(model.path).stat().st_size}
        full = export_html(model, folder / f"{name}.html", test_images=test_set, name=name)
        row["float32"], row["path"] = full.size, full.path
        try:
            half = export_html(model, folder / f"{name}-half.html", half=True, test_images=test_set, name=name)
            row["float16"], row["half_change"], row["half_path"] = half.size, half.half_check.worst_change, half.path
        except WebExportError as exc:
            row["float16"], row["half_change"] = None, str(exc)
        pages.append(row)
        print(f"exported {name}", file=sys.stderr)
    return pages


def screenshots(driver, pages: list[dict], folder: Path) -> None:
    """The page as people see it: a phone (360 px, light), a desktop (1200 px) in light and in dark."""
    blind = next(p for p in pages if p["name"] == "mnist_denoising_autoencoder_blind")
    shots = [("web-page-360.png", 360, "light", True), ("web-page-desktop.png", 1200, "light", False),
             ("web-page-dark.png", 1200, "dark", False)]  # fmt: skip
    for file, width, scheme, draws in shots:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": scheme}]})  # fmt: skip
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        page = Page(driver, blind["path"])
        if draws:  # a 2 drawn with a finger
            page.js("document.getElementById('clear').click()")
            from selenium.webdriver.common.actions.action_builder import ActionBuilder
            from selenium.webdriver.common.actions.pointer_input import PointerInput
            from selenium.webdriver.common.by import By

            canvas = driver.find_element(By.ID, "canvas")
            touch = ActionBuilder(driver, mouse=PointerInput("touch", "finger"))
            two = [(-55, -45), (-30, -85), (20, -90), (50, -55), (35, -10), (-10, 40), (-55, 85), (0, 80), (60, 85)]
            touch.pointer_action.move_to(canvas, *two[0]).pointer_down()
            for x, y in two[1:]:
                touch.pointer_action.move_to(canvas, x, y)
            touch.pointer_action.pointer_up()
            touch.perform()
        height = page.js("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        page.js("return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        driver.save_screenshot(str(folder / file))
        print(f"wrote {folder / file} ({width}×{height}, {scheme})", file=sys.stderr)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--moves", type=int, default=240, help="pointer moves in each round's stroke")
    parser.add_argument("--screenshots", type=Path, help="also write the page's screenshots into this folder")
    parser.add_argument("--models", nargs="+", choices=shipped_models(), default=shipped_models(),
                        help="the shipped models to export and time (default: all)")  # fmt: skip
    args = parser.parse_args()
    if args.screenshots and "mnist_denoising_autoencoder_blind" not in args.models:
        parser.error("--screenshots shows mnist_denoising_autoencoder_blind: include it in --models")
    print(f"machine: {machine()}; load (1/5/15 min) at start {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        pages = export_pages(Path(tmp), args.models)
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            driver = start_chromium(profile)
            try:
                print(f"browser: headless Chromium {driver.capabilities.get('browserVersion')}")
                opened = {p["name"]: [] for p in pages}
                opened_half = {p["name"]: [] for p in pages}
                redraws = {p["name"]: [] for p in pages}
                for _ in range(args.rounds):
                    for row in pages:
                        page = Page(driver, row["path"])
                        opened[row["name"]].append(page.js("return window.denoiseStudio.timings().opened"))
                        page.js("document.getElementById('clear').click()")
                        before = len(page.js("return window.denoiseStudio.timings().redraws"))
                        stroke(driver, spiral(args.moves))
                        redraws[row["name"]] += page.js("return window.denoiseStudio.timings().redraws")[before + 1 :]
                        if row["float16"]:
                            page = Page(driver, row["half_path"])
                            opened_half[row["name"]].append(page.js("return window.denoiseStudio.timings().opened"))
                if args.screenshots:
                    screenshots(driver, pages, args.screenshots)
            finally:
                driver.quit()
    print(f"load at end {load()}\n")
    print("| model | parameters | .npz | page, float32 | page, --half | float16 test-MSE change (worst level) "
          "| first reconstruction after opening, median (max): float32, --half "
          "| redraw while drawing, median / p95 / max (redraws) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in pages:
        half = f"{row['float16'] / 1e6:.2f} MB" if row["float16"] else "refused"
        change = f"{row['half_change']:.3%}" if row["float16"] else row["half_change"]
        times, full, halves = redraws[row["name"]], opened[row["name"]], opened_half[row["name"]]
        opening = f"{statistics.median(full):.0f} ms ({max(full):.0f})" + (
            f", {statistics.median(halves):.0f} ms ({max(halves):.0f})" if halves else ""
        )
        print(f"| {row['name']} | {row['params']:,} | {row['file'] / 1e6:.2f} MB | {row['float32'] / 1e6:.2f} MB "
              f"| {half} | {change} | {opening} | {statistics.median(times):.2f} / {percentile(times, 0.95):.2f} / "
              f"{max(times):.2f} ms ({len(times)}) |")


if __name__ == "__main__":
    main()
