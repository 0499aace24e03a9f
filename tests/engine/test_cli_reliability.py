"""Issue 33 (2, 3, 7, 8, 11, 12) on the command line: a checkpoint is never an output, a failed checkpoint save
warns once and the run still writes its model, non-denoisers are refused before any data is read, a broken onnx
install is one line, honest messages for odd names, and one writer per output file."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.cli import main
from engine.data_sources import DATA_ENV
from engine.model_format import ModelFileError
from engine.nn import MLP, build_mlp
from engine.output_lock import lock_path, writing

REPO = Path(__file__).resolve().parents[2]
TRAIN = ["--train-size", "64", "--test-size", "16", "--batch-size", "16", "--layers", "784:6:relu,784:sigmoid",
         "--quiet"]  # fmt: skip


def last_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    return lines[-1] if lines else ""


# ----- 2: a checkpoint is never an output ---------------------------------------------------------------------------


def test_resuming_into_the_checkpoint_itself_is_refused_and_the_checkpoint_kept(tiny_mnist, tmp_path, capsys):
    assert main(["train", "--epochs", "1", *TRAIN, "-o", str(tmp_path / "c.npz")]) == 0
    ckpt = tmp_path / "c.ckpt.npz"
    before = ckpt.read_bytes()
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["train", "--resume", str(ckpt), "--epochs", "2", "--quiet", "-o", str(ckpt)]))
    assert exc.value.code == 2
    assert "is the checkpoint this run resumes from" in last_line(capsys)
    assert ckpt.read_bytes() == before
    assert main(["train", "--resume", str(ckpt), "--epochs", "2", "--quiet", "-o", str(tmp_path / "d.npz")]) == 0


def test_any_other_checkpoint_as_output_is_refused(tiny_mnist, tmp_path, capsys):
    assert main(["train", "--epochs", "1", *TRAIN, "-o", str(tmp_path / "a.npz")]) == 0
    other = tmp_path / "a.ckpt.npz"
    before = other.read_bytes()
    assert main(["train", "--epochs", "1", *TRAIN, "-o", str(other), "--checkpoint", str(tmp_path / "b.ckpt")]) == 2
    assert "is a training checkpoint; a model never replaces one" in last_line(capsys)
    assert other.read_bytes() == before


# ----- 3: a checkpoint that cannot be written (a real OS error: a file size limit) ---------------------------------

LIMITED = textwrap.dedent(
    """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing past the limit fails with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
    from engine.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE") or not hasattr(signal, "SIGXFSZ"), reason="POSIX limits")
def test_a_checkpoint_the_disk_refuses_warns_once_and_the_model_is_still_written(tiny_mnist, tmp_path):
    """The checkpoint (weights and Adam's two moments, ~160 KB) is larger than the limit, the model (~55 KB) is not."""
    out = tmp_path / "m.npz"
    env = {**os.environ, "PYTHONPATH": str(REPO), DATA_ENV: str(tiny_mnist)}
    argv = ["train", "--epochs", "3", "--train-size", "64", "--test-size", "16", "--batch-size", "16", "--quiet",
            "--layers", "784:8:relu,784:sigmoid", "-o", str(out)]  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", LIMITED, str(100_000), *argv], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("could not be saved") == 1 and "File too large" in proc.stderr  # said once, not thrice
    assert "Traceback" not in proc.stderr and "done: saved" in proc.stderr
    assert len(MLP.from_file(out).metadata["history"]["epochs"]) == 3
    assert not (tmp_path / "m.ckpt.npz").exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


# ----- 7, 8: evaluate and export refuse what they cannot use, in one line -------------------------------------------


@pytest.mark.parametrize("command", [["evaluate"], ["export", "-o", "x.onnx"]])
def test_a_model_that_is_not_a_denoiser_is_refused_before_any_data(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "no-data-here"))  # reading data would fail differently
    monkeypatch.chdir(tmp_path)
    out10 = tmp_path / "out10.npz"
    build_mlp([784, 32, 10], ["relu", "linear"], seed=0).save(out10)
    if command[0] == "export":
        pytest.importorskip("onnx")
    assert main([command[0], str(out10), *command[1:]]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "maps 784 values to 10" in err and "denoiser" in err
    assert not (tmp_path / "x.onnx").exists()


def test_a_broken_onnx_install_is_one_line_not_a_traceback(tmp_path):
    fake = tmp_path / "site" / "onnx"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('libonnx.so: cannot open shared object file')\n")
    build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0).save(tmp_path / "m.npz")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(REPO)])}
    proc = subprocess.run([sys.executable, "-m", "engine", "export", str(tmp_path / "m.npz"), "-o",
                           str(tmp_path / "m.onnx")], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "onnx package is installed but cannot be imported" in proc.stderr and "libonnx.so" in proc.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_export_names_the_shapes_it_writes(tmp_path, capsys):
    pytest.importorskip("onnx")
    build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0).save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), "-o", str(tmp_path / "m.onnx")]) == 0
    assert "input (batch, 784) and output (batch, 784) float32" in capsys.readouterr().err


# ----- 11: odd model names get honest one-line messages -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, says", [("", "no model file was named"), ("  ", "no model file was named"), ("a" * 5000, "too long")]
)
def test_an_empty_or_impossible_model_name_is_a_model_file_error(name, says, capsys):
    with pytest.raises(ModelFileError, match=says):
        MLP.from_file(name)
    assert main(["summary", name]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and says in err and len(err) < 500  # never the whole 5000-character path


# ----- 12: one writer per output; a control character is refused; a created folder is named ------------------------


def test_a_second_writer_of_the_same_output_is_refused_in_one_line(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "same.npz"
    with writing(out):  # another run, writing this file now
        assert main(["train", "--epochs", "1", *TRAIN, "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is being written by another Denoise Studio run" in err and str(out) in err
    assert not out.exists()
    assert main(["train", "--epochs", "1", *TRAIN, "-o", str(out)]) == 0  # free again once that run is done
    assert not lock_path(out).exists()


def test_a_killed_writer_never_leaves_its_output_locked(tiny_mnist, tmp_path):
    out = tmp_path / "m.npz"
    holder = textwrap.dedent(
        """
        import sys
        from engine.output_lock import writing
        with writing(sys.argv[1]):
            print("held", flush=True)
            sys.stdin.read()  # until killed
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", holder, str(out)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "held"
        assert main(["train", "--epochs", "1", *TRAIN, "-o", str(out)]) == 1
        proc.kill()  # SIGKILL: no clean-up runs; the kernel drops the lock with the process
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert lock_path(out).exists()  # left behind, but not held
    assert main(["train", "--epochs", "1", *TRAIN, "-o", str(out)]) == 0
    assert MLP.from_file(out).n_params > 0


@pytest.mark.parametrize("flag", ["-o", "--checkpoint"])
def test_a_control_character_in_an_output_name_is_refused(flag, tiny_mnist, tmp_path, capsys):
    name = str(tmp_path / "line\nbreak.npz")
    argv = ["train", "--epochs", "1", *TRAIN, flag, name] + (["-o", str(tmp_path / "m.npz")] if flag != "-o" else [])
    assert main(argv) == 2
    assert "control character" in last_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist"]


def test_a_folder_made_for_the_output_is_named(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "runs" / "today" / "m.npz"
    assert main(["train", "--epochs", "1", *TRAIN, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"note: created the folder {tmp_path / 'runs'} for --output {out}" in err
    assert out.is_file()
