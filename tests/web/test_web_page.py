"""The exported web page in a real browser (headless Chromium): it computes what the engine computes, prepares a
drawing as the app does, draws with mouse, touch and pen, asks the network for nothing, and shows hostile text as
text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.dataset import read_split
from engine.model_limits import SKIP_KINDS
from engine.model_paths import shipped_models
from engine.nn import MLP, build_mlp
from engine.preprocess import prepare_digit, shrink_framed
from engine.web_export import WEB_LAYERS, WEB_SKIPS, export_html, page_html
from tests.web.browser import Page

PREDICT_TOLERANCE = 1e-5
PIXEL_TOLERANCE = 1 / 255
VECTORS = Path(__file__).resolve().parents[1] / "data" / "preprocess_vectors.npz"


def every_activation() -> MLP:
    """A deep network using relu, tanh, leaky_relu (alpha 0.2), linear and sigmoid."""
    net = build_mlp([784, 64, 48, 32, 48, 784], ["relu", "tanh", "leaky_relu", "linear", "sigmoid"], seed=3)
    net.layers[2].activation.alpha = 0.2
    return net


def with_skip(kind: str, last: str) -> MLP:
    """784-64-784 ending in a skip path, its weights moved off their start: a gate far from 1/2 in places, residual
    sums on both sides of [0, 1] (so the clip matters)."""
    net = build_mlp([784, 64, 784], ["relu", last], seed=4, skip=kind)
    net.params += np.random.default_rng(4).standard_normal(net.params.size).astype(np.float32) * np.float32(0.05)
    return net


MODELS = {name: (lambda name=name: MLP.from_file(name)) for name in shipped_models()}
MODELS["every-activation"] = every_activation
MODELS["gate"] = lambda: with_skip("gate", "sigmoid")
MODELS["residual"] = lambda: with_skip("residual", "linear")


@pytest.fixture(scope="module")
def test_digits(real_mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test images (10,000, 784) uint8 and labels."""
    return read_split("test", data_dir=real_mnist_dir, download=False, progress=False)


@pytest.fixture(scope="module")
def noisy_digits(test_digits) -> np.ndarray:
    """(100, 784) float32: the first 100 MNIST test digits under Gaussian noise, σ from 0 to 0.99, clipped to [0, 1]."""
    clean = test_digits[0][:100].astype(np.float32) / 255
    rng = np.random.default_rng(0)
    sigma = np.linspace(0, 0.99, 100, dtype=np.float32)[:, None]
    return np.clip(clean + sigma * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)


@pytest.fixture(scope="module")
def small_page(tmp_path_factory) -> Path:
    """The shipped 784-10-784 model as a page without test images (drawing only)."""
    path = tmp_path_factory.mktemp("page") / "small.html"
    export_html(MLP.from_file("mnist_denoising_autoencoder"), path)
    return path


def draw(driver, points: list[tuple[int, int]], kind: str = "mouse", button: int = 0) -> None:
    """A stroke through ``points`` (offsets from the canvas's centre, CSS pixels) with real pointer events."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "canvas")
    actions = ActionBuilder(driver, mouse=PointerInput(kind, f"{kind}-{button}"))
    actions.pointer_action.move_to(canvas, *points[0]).pointer_down(button=button)
    for x, y in points[1:]:
        actions.pointer_action.move_to(canvas, x, y)
    actions.pointer_action.pointer_up(button=button)
    actions.perform()


def click(page: Page, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    page.driver.find_element(By.ID, element_id).click()


# ----- the network -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_predict_in_the_page_is_the_engines(browser, name, noisy_digits, tmp_path):
    model = MODELS[name]()
    export_html(model, tmp_path / "page.html", name=name)
    got = Page(browser, tmp_path / "page.html").predict(noisy_digits)
    want = model.predict(noisy_digits)
    assert got.shape == want.shape == (100, 784)
    diff = float(np.max(np.abs(got - want)))
    print(f"{name}: max abs difference {diff:.2e}")
    assert diff <= PREDICT_TOLERANCE


@pytest.mark.parametrize("make", [lambda: MLP.from_file("mnist_denoising_autoencoder_large"),
                                  lambda: with_skip("gate", "sigmoid")], ids=["large", "gate"])  # fmt: skip
def test_a_float16_page_runs_the_rounded_weights(browser, noisy_digits, tmp_path, make):
    model = make()
    (tmp_path / "half.html").write_text(page_html(model, half=True), encoding="utf-8")
    rounded = model.copy()
    rounded.params[...] = model.params.astype(np.float16).astype(np.float32)
    got = Page(browser, tmp_path / "half.html").predict(noisy_digits)
    assert float(np.max(np.abs(got - rounded.predict(noisy_digits)))) <= PREDICT_TOLERANCE
    assert float(np.max(np.abs(got - model.predict(noisy_digits)))) > PREDICT_TOLERANCE  # it did round


def test_the_page_runs_every_layer_kind_the_exporter_lets_through(browser, small_page):
    page = Page(browser, small_page)
    assert set(WEB_LAYERS) <= set(page.js("return Object.keys(LAYER_KINDS);"))
    assert set(SKIP_KINDS) <= set(WEB_SKIPS) <= set(page.js("return Object.keys(SKIP_KINDS);"))


def test_predict_refuses_a_wrong_input_saying_what_it_takes(browser, small_page):
    message = Page(browser, small_page).js(
        "try { window.denoiseStudio.predict(new Float32Array(10)); } catch (e) { return e.message; }"
    )
    assert "takes 784 numbers" in message and "got 10" in message


# ----- the digit preparation ------------------------------------------------------------------------------------------
def test_the_page_prepares_the_shared_vectors_as_the_engine_does(browser, small_page):
    page = Page(browser, small_page)
    with np.load(VECTORS) as vectors:
        names = list(vectors["names"])
        assert len(names) >= 10
        for name in names:
            frame = vectors[f"{name}.frame"] if f"{name}.frame" in vectors.files else None
            got = page.prepare(vectors[f"{name}.ink"], frame)
            diff = float(np.max(np.abs(got - vectors[f"{name}.expected"])))
            assert diff <= PIXEL_TOLERANCE, f"{name}: the page's prepare differs by {diff:.4f}"


@pytest.mark.parametrize("kind", ["mouse", "touch", "pen"])
def test_a_stroke_drawn_with_pointer_events_is_prepared_as_the_engine_prepares_it(browser, small_page, kind):
    page = Page(browser, small_page)
    draw(browser, [(-60, -90), (50, -85), (0, 10), (-20, 100)], kind)  # a 7
    pixels = page.canvas_pixels()
    assert pixels.shape == (280, 280) and (pixels > 128).sum() > 2000
    want = prepare_digit(pixels)
    assert float(np.max(np.abs(page.prepare(pixels) - want))) <= PIXEL_TOLERANCE
    shown = page.current()
    assert float(np.max(np.abs(shown["clean"] - want.ravel()))) <= PIXEL_TOLERANCE
    model = MLP.from_file("mnist_denoising_autoencoder")
    assert float(np.max(np.abs(shown["reconstruction"] - model.predict(shown["noisy"])))) <= PREDICT_TOLERANCE


def test_the_eraser_keeps_the_digit_where_it_was_and_undo_and_clear_work(browser, small_page):
    page = Page(browser, small_page)
    scale = 280 / page.js("return document.getElementById('canvas').getBoundingClientRect().width")
    draw(browser, [(0, -110), (0, 110)])  # a 1
    drawn = page.canvas_pixels()
    draw(browser, [(-40, -80), (40, -80)], button=2)  # the right button erases a band across it
    erased = page.canvas_pixels()
    band = round(140 - 80 * scale)
    assert drawn[band - 5 : band + 5].any() and not erased[band - 5 : band + 5].any()
    assert np.array_equal(erased[: band - 20], drawn[: band - 20])  # the rest stays
    clean = page.current()["clean"].reshape(28, 28)
    assert float(np.max(np.abs(clean - prepare_digit(erased, frame=drawn)))) <= PIXEL_TOLERANCE
    assert float(np.max(np.abs(clean - prepare_digit(erased)))) > 0.1  # not re-centred as a shorter stroke
    click(page, "eraser")  # the Eraser tool: the left button erases too
    draw(browser, [(-40, 80), (40, 80)])
    low = round(140 + 80 * scale)
    assert drawn[low - 5 : low + 5].any() and not page.canvas_pixels()[low - 5 : low + 5].any()
    click(page, "undo")
    click(page, "undo")
    assert np.array_equal(page.canvas_pixels(), drawn)
    click(page, "clear")
    assert not page.canvas_pixels().any() and not page.current()["clean"].any()
    click(page, "undo")
    assert np.array_equal(page.canvas_pixels(), drawn)


def test_test_images_step_and_drawing_over_one_keeps_its_layout(browser, test_digits, tmp_path):
    images, labels = test_digits
    export_html(MLP.from_file("mnist_denoising_autoencoder"), tmp_path / "page.html", test_images=test_digits)
    page = Page(browser, tmp_path / "page.html")
    first_zero, first_one = (int(np.flatnonzero(labels == digit)[0]) for digit in (0, 1))
    assert np.array_equal(page.current()["clean"], images[first_zero].astype(np.float32) / 255)
    click(page, "next")
    assert np.array_equal(page.current()["clean"], images[first_one].astype(np.float32) / 255)
    assert page.js("return document.getElementById('test-caption').textContent") == "Test image 2 of 10 · digit 1"
    draw(browser, [(60, -60), (60, 60)])  # drawn over: a picture laid out already, only scaled down
    want = shrink_framed(page.canvas_pixels())
    assert float(np.max(np.abs(page.current()["clean"] - want.ravel()))) <= PIXEL_TOLERANCE
    click(page, "undo")  # the test image, as it was
    assert np.array_equal(page.current()["clean"], images[first_one].astype(np.float32) / 255)


def test_noise_controls(browser, small_page):
    from selenium.webdriver.support.select import Select

    page = Page(browser, small_page)
    draw(browser, [(-50, -50), (50, 50)])
    before = page.current()
    assert before["kind"] == "gaussian" and before["level"] == 0.1  # the model's training level
    click(page, "new-noise")
    after = page.current()
    assert np.array_equal(after["clean"], before["clean"]) and not np.array_equal(after["noisy"], before["noisy"])
    Select(page.driver.find_element("id", "noise-kind")).select_by_value("masking")
    masked = page.current()
    assert masked["kind"] == "masking" and page.js("return document.getElementById('level-name').textContent") == (
        "Fraction"
    )
    assert np.all((masked["noisy"] == masked["clean"]) | (masked["noisy"] == 0))  # pixels blanked, nothing added
    level = "const s = document.getElementById('level'); s.value = arguments[0]; s.dispatchEvent(new Event('input'));"
    Select(page.driver.find_element("id", "noise-kind")).select_by_value("salt_and_pepper")
    page.js(level, "0.2")
    light = page.current()["noisy"]
    page.js(level, "0.6")
    heavy = page.current()["noisy"]
    clean = masked["clean"]
    assert np.all((heavy == clean) | (heavy == 0) | (heavy == 1))  # pixels set to black or white
    hit_light, hit_heavy = light != clean, heavy != clean
    assert 0 < hit_light.sum() < hit_heavy.sum() and not (hit_light & ~hit_heavy).any()  # one pattern, scaled
    page.js(level, "0")
    assert np.array_equal(page.current()["noisy"], clean)
    caption = page.js("return document.getElementById('reconstruction-caption').textContent")
    assert caption == f"MSE {page.current()['mse']['reconstruction']:.4f}"


# ----- safety ---------------------------------------------------------------------------------------------------------
def test_the_page_requests_nothing_and_its_policy_forbids_any_request(browser, small_page):
    page = Page(browser, small_page)
    draw(browser, [(-50, 0), (50, 0)])
    assert page.requests() == [page.url]  # the page itself, nothing more
    outcome = page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const seen = [];"
        "document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));"
        "fetch('http://127.0.0.1:9/x').then(() => done(['fetched', seen]), () => setTimeout(() => done(['refused', seen]), 50));"  # noqa: E501
    )
    assert outcome == ["refused", ["connect-src"]]


def test_a_hostile_model_name_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    hostile = "<script>alert(1)</script>"
    model = MLP.from_file("mnist_denoising_autoencoder")
    model.metadata["training"]["optimizer"] = "</script><img src=x onerror=alert(2)>"
    model.metadata["dataset"] = {"name": "<svg onload=alert(3)>", "train_size": 5}
    model.metadata["metrics"] = {"<b onmouseover=alert(4)>x</b>": "&lt;"}
    export_html(model, tmp_path / "page.html", name=hostile)
    recorder = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"},
    )
    try:
        page = Page(browser, tmp_path / "page.html")
        assert page.js("return window.__alerts") == []
        assert page.js("return document.getElementById('model-name').textContent") == hostile
        assert page.js("return document.title") == f"{hostile} · Denoise Studio"
        facts = page.js("return document.getElementById('about').textContent")
        assert "</script><img src=x onerror=alert(2)>" in facts and "<b onmouseover=alert(4)>x</b>" in facts
        assert "<svg onload=alert(3)>" in page.js("return document.getElementById('model-line').textContent")
        assert page.js("return document.querySelectorAll('img, svg, b:not(figcaption b)').length") == 0
        code = page.js("return [...document.scripts].filter((s) => !s.type).map((s) => s.textContent)")
        assert len(code) == 4 and not any("alert" in text for text in code)
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", recorder)


# ----- what the page says ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["gate", "residual", None])
def test_the_model_section_shows_the_skip_path_and_what_it_computes(browser, tmp_path, kind):
    model = with_skip(kind, "sigmoid") if kind else build_mlp([784, 64, 784], ["relu", "sigmoid"])
    export_html(model, tmp_path / "page.html")
    page = Page(browser, tmp_path / "page.html")
    rows = page.js("return [...document.querySelectorAll('#layers tbody tr')].map((r) => "
                   "[...r.cells].map((c) => c.textContent));")  # fmt: skip
    line = page.js("return document.getElementById('model-line').textContent")
    note = page.js("const n = document.getElementById('skip-note'); return n.hidden ? null : n.textContent")
    total = page.js("return document.getElementById('total-params').textContent")
    assert total == f"{model.n_params:,}" and line.startswith(f"784 → 64 → 784{' + ' if kind else ' · '}")
    if kind is None:
        assert len(rows) == 2 and note is None
    elif kind == "gate":
        assert rows[2] == ["3 · Gated skip", "64 → 784", "Sigmoid", f"{64 * 784 + 784:,}"]
        assert "+ gated skip · " in line and "c + g·(x − c)" in note and "layer 2's input" in note
    else:
        assert rows[2] == ["3 · Residual skip", "input + layer 2", "clip to [0, 1]", "0"]
        assert "+ residual skip · " in line and "clip(x + c, 0, 1)" in note


def test_without_test_images_the_page_says_so_and_offers_drawing(browser, small_page):
    page = Page(browser, small_page)
    note = page.js("const n = document.getElementById('test-note'); return n.hidden ? null : n.textContent")
    assert "no test images" in note and "MNIST test set was not on the computer" in note
    assert page.js("return document.getElementById('test-nav').hidden") is True
    assert "CC BY-SA 3.0" in page.js("return document.getElementById('attribution').textContent")


def test_usable_at_360_pixels_and_following_the_system_theme(browser, small_page):
    page = Page(browser, small_page)
    background = "return getComputedStyle(document.body).backgroundColor"
    light = page.js(background)
    try:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})  # fmt: skip
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})  # fmt: skip
        assert page.js("return document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
        assert page.js(background) != light
        box = page.js("return document.getElementById('canvas').getBoundingClientRect().toJSON()")
        assert box["width"] >= 300 and box["left"] >= 0 and box["right"] <= 360
        draw(browser, [(-40, -40), (40, 40)], "touch")
        assert page.current()["clean"].any()
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
