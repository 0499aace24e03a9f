"""Issue 33 (6, 11): large valid pictures load (scaled while read) up to the stated limit, beyond it "too large
(W×H, more than N megapixels)" from the header in bounded memory, "damaged" only for damaged files, and what is
not a readable file (a pipe, a device, a dangling link, a forbidden file) is named for what it is.  The crafted
pictures are in ``tests/engine/crafted.py`` (``bench/crafted_files.py`` gives each one's peak memory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.image_import import MAX_MEGAPIXELS, MAX_WORK_SIDE, PictureTooLarge, check_picture_size
from gui.denoise.picture_import import PictureError, load_picture, read_picture
from tests.engine import crafted

PEAK_MB = 100
"""A refused picture costs no more than the reader's process does anyway (~52 MB here)."""
linux_only = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc (Linux)")


def problem(path: Path) -> str:
    with pytest.raises(PictureError) as info:
        load_picture(str(path), path.name)
    assert info.value.fix
    return info.value.problem


def test_the_9000_pixel_rgb_png_of_the_issue_loads_scaled_while_read(tmp_path):
    path = crafted.png(tmp_path / "scan.png", 9000, 9000)  # 81 megapixels: Qt's own 256 MB limit refused it
    image, size = read_picture(str(path), path.name)
    assert size == (9000, 9000) and max(image.width(), image.height()) == MAX_WORK_SIDE
    assert load_picture(str(path), path.name).inverted  # dark ink on light paper, prepared as MNIST


@linux_only
@pytest.mark.parametrize("name", sorted(n for n, (_, says) in crafted.PICTURES.items() if says))
def test_a_crafted_picture_is_refused_from_its_header_in_bounded_memory(name, tmp_path):
    build, says = crafted.PICTURES[name]
    path = build(tmp_path / "picture")
    outcome, peak, _ = crafted.run_picture(path)
    assert outcome.startswith("REFUSED") and says in outcome, outcome
    assert peak <= PEAK_MB, f"{name}: peak RSS {peak:.0f} MB"
    assert ("damaged" in outcome) == (says == "could not be decoded")  # only a file that cannot be read says so


def test_too_large_says_the_size_and_the_limit_and_never_damaged(tmp_path):
    said = problem(crafted.png(tmp_path / "huge.png", 20000, 20000, color=0))
    assert said == f"is too large (20000×20000, more than {MAX_MEGAPIXELS} megapixels)"


def test_the_limit_is_stated_once_in_the_engine():
    check_picture_size(10_000, 10_000)  # 100 megapixels at 8 bits a channel: allowed
    check_picture_size(7071, 7071, bits_per_channel=16)
    with pytest.raises(PictureTooLarge, match="10001×10000, more than 100 megapixels"):
        check_picture_size(10_001, 10_000)
    with pytest.raises(PictureTooLarge, match="at 16 bits a channel, more than 50 megapixels"):
        check_picture_size(7072, 7072, bits_per_channel=16)


def test_a_picture_cut_short_is_called_damaged(tmp_path):
    whole = crafted.png(tmp_path / "whole.png", 600, 400).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 2])
    assert "damaged or cut short" in problem(cut)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_a_pipe_is_named_as_one_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "digit.png"
    os.mkfifo(fifo)
    assert problem(fifo).startswith("is not a file but a device, pipe or socket")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_link_to_a_device_is_named_as_one(tmp_path):
    link = tmp_path / "digit.png"
    link.symlink_to("/dev/zero")
    assert problem(link).startswith("is not a file but a device, pipe or socket")


def test_a_dangling_link_and_a_missing_file_are_told_apart(tmp_path):
    link = tmp_path / "digit.png"
    link.symlink_to(tmp_path / "moved-away.png")
    assert problem(link).startswith("is a link to a file that is not there")
    assert problem(tmp_path / "gone.png").startswith("was not found")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions (root reads anything)")
def test_an_unreadable_picture_says_permission_denied_not_file_not_found(tmp_path):
    path = crafted.png(tmp_path / "private.png", 64, 64)
    path.chmod(0)
    assert problem(path).startswith("cannot be read: permission denied")
