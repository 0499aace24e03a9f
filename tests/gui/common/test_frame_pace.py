"""A live view's frames are spaced so that drawing them takes a bounded share of the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from gui.common.frame_pace import FramePace


class FakeClock:
    """The GUI thread's CPU seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frames(pace: FramePace, clock: FakeClock, cost_s: float, count: int) -> None:
    for _ in range(count):
        clock.now += cost_s
        pace.frame_done()


def test_costly_frames_come_further_apart_and_cheap_ones_at_the_fastest_pace(qapp):
    clock, timer = FakeClock(), QTimer()
    pace = FramePace(timer, share=0.05, least_ms=100, most_ms=500, clock=clock)
    assert timer.interval() == 100
    frames(pace, clock, 0.016, 30)  # 16 ms of the GUI thread a frame: 320 ms apart keeps it to 5 %
    assert abs(timer.interval() - 320) <= 2
    frames(pace, clock, 0.001, 30)
    assert timer.interval() == 100  # never faster than the least interval
    frames(pace, clock, 0.2, 30)
    assert timer.interval() == 500  # never so slow the view looks stuck


def test_one_slow_frame_moves_the_pace_only_part_way_and_the_time_between_runs_is_no_frame(qapp):
    clock, timer = FakeClock(), QTimer()
    pace = FramePace(timer, share=0.05, clock=clock)
    frames(pace, clock, 0.008, 20)
    steady = timer.interval()
    assert abs(steady - 160) <= 2
    frames(pace, clock, 0.016, 1)  # one frame twice as costly (say, a window resize)
    assert steady < timer.interval() < 320  # part way towards what that frame alone would ask
    frames(pace, clock, 0.008, 20)
    assert abs(timer.interval() - steady) <= 2
    pace.restart()
    clock.now += 30.0  # between runs: the GUI thread did other things
    pace.frame_done()
    assert abs(timer.interval() - steady) <= 2
