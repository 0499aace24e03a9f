"""The package as a user gets it: a wheel built from a clean copy of the sources (offline), installed into a fresh
venv where the source checkout cannot shadow it, run from another folder: every shipped model by bare name,
the CLI (a web page export, whose files are package data), ``--version``, and the app with its default model."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine import __version__
from engine.nn import MLP

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (REPO / "models").glob("*.npz"))
DEFAULT = "mnist_denoising_autoencoder"
APP_MODEL = "mnist_denoising_autoencoder_gated"  # gui.start_model.SHIPPED_MODEL, named here without importing Qt
pytestmark = pytest.mark.skipif(os.name != "posix", reason="builds a venv with POSIX paths")


def _clean_copy(dest: Path) -> Path:
    """The files a fresh clone would have (tracked, plus new ones not ignored), nothing built or cached."""
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                                capture_output=True).stdout.decode().split("\0")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs git to list the sources")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _run(*cmd, cwd: Path, env: dict | None = None) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _clean_copy(tmp_path_factory.mktemp("clone"))
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index", "-w", dist,
         cwd=src)  # fmt: skip
    (built,) = dist.glob("denoise_studio-*.whl")
    return built


def test_the_wheel_holds_the_engine_the_app_and_the_models_only(wheel):
    assert wheel.name == f"denoise_studio-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = zf.read(f"denoise_studio-{__version__}.dist-info/entry_points.txt").decode()
        metadata = zf.read(f"denoise_studio-{__version__}.dist-info/METADATA").decode()
    sources = {p.relative_to(REPO).as_posix() for package in ("engine", "gui") for p in (REPO / package).rglob("*.py")}
    assert sources - set(names) == set()  # every module, subpackages included (pyproject lists each package)
    web_assets = {p.relative_to(REPO).as_posix() for p in (REPO / "engine" / "web").iterdir() if p.is_file()}
    assert len(web_assets) >= 6 and web_assets - set(names) == set()  # the web page's HTML, CSS and scripts
    assert {f"engine/models/{name}.npz" for name in SHIPPED} | {"engine/models/README.md"} <= set(names)
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench", "docs", "examples", "models")]
    assert "denoise-studio = gui.launcher:main" in entry_points.split("[gui_scripts]")[0]
    assert "denoise-studio-gui = gui.launcher:gui_main" in entry_points.split("[gui_scripts]")[1]
    assert "Provides-Extra: onnx" in metadata


def test_the_installed_wheel_works_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    # the dependencies already installed here, without the checkout (a path line: no editable finder runs)
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(_run(python, "-c", where, cwd=tmp_path).strip())
    (purelib / "test_dependencies.pth").write_text("\n".join(deps) + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))

    version = _run(bin_dir / "denoise-studio", "--version", cwd=elsewhere, env=env).strip()
    assert version == f"denoise-studio {__version__}"
    assert "DENSE 784 -> 10 [ReLU]" in _run(bin_dir / "denoise-studio", "summary", DEFAULT, cwd=elsewhere, env=env)
    assert (bin_dir / "denoise-studio-gui").is_file()
    _run(bin_dir / "denoise-studio", "export", DEFAULT, "-o", "page.html", cwd=elsewhere, env=env)  # package data
    assert (elsewhere / "page.html").read_text().count("<script>") == 4
    code = (
        "import engine, gui\n"
        "from engine.nn import MLP\n"
        "print(engine.__file__)\n"
        f"for name in {SHIPPED!r}:\n"
        "    model = MLP()\n"
        "    model.load(name, verbose=False)\n"
        "    print(name, model.n_params)\n"
    )
    out = _run(python, "-c", code, cwd=elsewhere, env=env).splitlines()
    assert out[0].startswith(str(venv)) and not out[0].startswith(str(REPO))
    assert len(SHIPPED) >= 2
    assert out[1:] == [f"{name} {MLP.from_file(REPO / 'models' / (name + '.npz')).n_params}" for name in SHIPPED]
    app = (
        "from PySide6.QtCore import QSettings\n"
        "from gui.app import make_app\n"
        "from gui.main_window import MainWindow\n"
        "app = make_app([])\n"
        "window = MainWindow(settings=QSettings('settings.ini', QSettings.Format.IniFormat))\n"
        "shipped = [a.data() for a in window.files.shipped_menu.actions()]\n"
        "print(window.state.name, window.state.model.n_params, shipped)\n"
    )
    opens_with = MLP.from_file(REPO / "models" / f"{APP_MODEL}.npz")  # the app's start model, from the wheel too
    assert _run(python, "-c", app, cwd=elsewhere, env=env).strip() == f"{APP_MODEL} {opens_with.n_params} {SHIPPED!r}"
