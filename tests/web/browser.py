"""Debian's Chromium driven by Selenium, as the web page's tests and ``bench/web_page.py`` run it, and ``Page``: an
exported page open in it, with the calls made through ``window.denoiseStudio``.

Chromium runs headless, as root needs (no sandbox), with its background networking off and a fresh profile, so the
only requests it makes are the page's own (without those flags it reaches out for updates and sync at every start,
which an offline machine refuses many times over).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

CHROMIUM = os.environ.get("DENOISE_STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DENOISE_STUDIO_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--window-size=1200,1000", "--force-device-scale-factor=1",
]  # fmt: skip


def chromium_options(profile: str):
    """Chromium's options (a fresh profile folder ``profile``), logging the network for checks."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return options


def start_chromium(profile: str):
    """A Selenium WebDriver on a new headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(options=chromium_options(profile), service=Service(CHROMEDRIVER))


class Page:
    """An exported page open in the browser, with the calls the tests make through ``window.denoiseStudio``."""

    def __init__(self, driver, path: Path) -> None:
        from selenium.webdriver.support.wait import WebDriverWait

        self.driver = driver
        self.url = path.resolve().as_uri()
        driver.get_log("performance")  # what earlier pages logged
        driver.get(self.url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return !!window.denoiseStudio"))
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.denoiseStudio.timings().opened"))

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(n, 784) float32 -> the page's reconstructions (n, 784) float32, through ``denoiseStudio.predict``."""
        got = self.js(
            "return arguments[0].map((row) => Array.from(window.denoiseStudio.predict(new Float32Array(row))));",
            rows.tolist(),
        )
        return np.asarray(got, np.float32)

    def prepare(self, ink: np.ndarray, frame: np.ndarray | None = None) -> np.ndarray:
        """(H, W) uint8 grey pixels (and an optional frame) -> the page's ``prepare`` of them as ImageData, (28, 28)."""

        def image_data(name: str) -> str:
            return (f"const {name} = new ImageData(arguments[0].w, arguments[0].h);"
                    f"arguments[0].{name}.forEach((v, i) => {name}.data.set([v, v, v, 255], 4 * i));")  # fmt: skip

        spec = {"w": int(ink.shape[1]), "h": int(ink.shape[0]), "ink": ink.ravel().tolist(),
                "frame": None if frame is None else frame.ravel().tolist()}  # fmt: skip
        script = image_data("ink") + (image_data("frame") if frame is not None else "const frame = null;")
        got = self.js(script + "return Array.from(window.denoiseStudio.prepare(ink, frame));", spec)
        return np.asarray(got, np.float32).reshape(28, 28)

    def current(self) -> dict:
        """What the page shows once the redraw that the last input asked for has run (the page redraws in the next
        animation frame): clean, noisy, reconstruction (784,) float32 each, their MSE, the noise."""
        shown = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => {"
            "  const c = window.denoiseStudio.current();"
            "  done(JSON.stringify({...c, clean: Array.from(c.clean), noisy: Array.from(c.noisy),"
            "                       reconstruction: Array.from(c.reconstruction)}));"
            "}));"
        )
        shown = json.loads(shown)
        for key in ("clean", "noisy", "reconstruction"):
            shown[key] = np.asarray(shown[key], np.float32)
        return shown

    def canvas_pixels(self, which: str = "canvas") -> np.ndarray:
        """The drawing canvas's pixels (their red channel: the canvas is grey), (H, W) uint8."""
        flat = self.js(
            "const c = document.getElementById(arguments[0]);"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);"
            "return [c.width, c.height, Array.from(d.data.filter((_, i) => i % 4 === 0))];",
            which,
        )
        width, height, red = flat
        return np.asarray(red, np.uint8).reshape(height, width)

    def requests(self) -> list[str]:
        """URLs the browser requested since the page started loading (its network log)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
                urls.append(message["params"].get("request", {}).get("url") or message["params"].get("url"))
        return urls
