"""A real browser for the exported web page: Debian's Chromium driven by Selenium, one per test session
(``tests/web/browser.py``).  Skips, saying why, where Selenium, ``/usr/bin/chromium`` or ``/usr/bin/chromedriver`` is
missing (``.ci/run`` installs the Debian packages ``chromium`` and ``chromium-driver``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.web.browser import CHROMEDRIVER, CHROMIUM, start_chromium


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Selenium WebDriver), shared by the session's browser tests."""
    pytest.importorskip("selenium", reason="browser tests need selenium (pip install -e '.[test]')")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            pytest.skip(f"browser tests need Debian's {package} ({path} not found): apt-get install chromium "
                        "chromium-driver (.ci/run installs them)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="denoise-studio-chromium-") as profile:
        driver = start_chromium(profile)
        try:
            yield driver
        finally:
            driver.quit()
