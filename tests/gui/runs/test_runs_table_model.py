"""The runs' table model: rows sorted in the model (selections follow their rows), new and changed runs merged in
place, filtered on every word typed."""

from __future__ import annotations

from PySide6.QtCore import QPersistentModelIndex, Qt

from engine.runs import RunRecord
from gui.runs.table_model import RunsFilter, RunsTableModel, rows_of

LR, TEST_MSE = 7, 10  # columns


def run(i: int, lr: float, mse: float | None, status: str = "finished", updated: float = 1.0) -> RunRecord:
    return RunRecord(id=i, uuid=f"u{i}", source="cli", status=status, started=100.0 + i, updated=updated,
                     layers=f"784:{8 * i}:relu,784:sigmoid", settings={"lr": lr, "epochs": 2, "noise": 0.1},
                     epochs_done=2, test_mse=mse, dataset="mnist")  # fmt: skip


def model_of(*runs) -> tuple[RunsTableModel, RunsFilter]:
    model, proxy = RunsTableModel(), RunsFilter()
    proxy.setSourceModel(model)
    model.set_rows(rows_of(runs))
    return model, proxy


def ids(model) -> list[int]:
    return model.run_ids()


def test_rows_start_newest_first_and_sort_by_any_column_keeping_the_selected_row(qapp):
    model, proxy = model_of(run(1, 1e-3, 0.03), run(2, 1e-2, None), run(3, 3e-3, 0.02))
    assert ids(model) == [3, 2, 1]
    chosen = QPersistentModelIndex(model.index(model.position(3), 4))  # as a view's selection holds it
    proxy.sort(TEST_MSE, Qt.SortOrder.AscendingOrder)  # a run without a score comes first
    assert ids(model) == [2, 3, 1]
    assert chosen.row() == model.position(3) == 1 and chosen.column() == 4
    proxy.sort(LR, Qt.SortOrder.DescendingOrder)
    assert ids(model) == [2, 3, 1] and [model.index(i, LR).data() for i in range(3)] == ["0.01", "0.003", "0.001"]


def test_a_new_run_is_inserted_where_the_sort_puts_it_and_an_unchanged_one_changes_nothing(qtbot, qapp):
    model, _ = model_of(run(1, 1e-3, 0.03), run(3, 3e-3, 0.01))
    model.sort(TEST_MSE, Qt.SortOrder.AscendingOrder)
    with qtbot.waitSignal(model.rowsInserted, timeout=1000) as inserted:
        assert model.merge(rows_of([run(2, 1e-3, 0.02)])) == (1, 0)
    assert inserted.args[1:] == [1, 1] and ids(model) == [3, 2, 1]
    with qtbot.assertNotEmitted(model.dataChanged):
        assert model.merge(rows_of([run(2, 1e-3, 0.02)])) == (0, 0)
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as changed:
        model.merge(rows_of([run(2, 1e-3, 0.02, status="crashed", updated=2.0)]))
    assert changed.args[0].row() == 1 and model.index(1, 2).data() == "crashed"


def test_many_new_runs_at_once_are_added_in_order(qapp):
    model, _ = model_of(run(1, 1e-3, 0.03))
    model.merge(rows_of([run(i, 1e-3, 0.03) for i in range(2, 80)]))
    assert ids(model) == list(range(79, 0, -1))


def test_the_filter_keeps_rows_holding_every_word_and_the_status_chosen(qapp):
    model, proxy = model_of(run(1, 1e-3, 0.03), run(2, 1e-2, 0.02, status="diverged"), run(3, 3e-3, 0.02))
    proxy.set_text("784-16 MNIST")
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data() == "2"
    proxy.set_text("784:24:relu")  # the full layers text, though the cell shows widths
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data() == "3"
    proxy.set_text("")
    proxy.set_status("diverged")
    assert proxy.rowCount() == 1
    proxy.set_status(None)
    assert proxy.rowCount() == 3


def test_at_most_four_runs_are_ticked_and_ticks_of_runs_gone_are_dropped(qtbot, qapp):
    model, _ = model_of(*(run(i, 1e-3, 0.02) for i in range(1, 7)))
    for i in range(1, 5):
        assert model.set_ticked(i, True)
    with qtbot.waitSignal(model.tickRefused, timeout=1000):
        assert not model.set_ticked(5, True)
    assert model.ticked() == [1, 2, 3, 4]
    index = model.index(model.position(1), 0)
    assert model.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    with qtbot.waitSignal(model.ticksChanged, timeout=1000) as ticks:
        model.set_rows(rows_of([run(i, 1e-3, 0.02) for i in (2, 3, 5)]))  # runs 1 and 4 deleted elsewhere
    assert ticks.args[0] == [2, 3]


def test_compared_runs_are_named_by_what_sets_them_apart(qapp):
    from gui.runs.settings_table import short_names

    a, b = run(1, 1e-3, 0.02), run(2, 1e-2, 0.02)
    a.settings["layers"], b.settings["layers"] = a.layers, b.layers
    assert short_names([a, b]) == ["run 1 · 784-8-784 · lr 0.001", "run 2 · 784-16-784 · lr 0.01"]
    assert short_names([a]) == ["run 1"]
