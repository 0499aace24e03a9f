"""``denoise-studio runs``: the recorded runs, newest first; ``show``, ``compare``, ``export``, ``delete``, ``rerun``.

Reading never changes a run, except that runs whose process died are recorded as crashed.  ``delete``
forgets runs and leaves their files unless ``--models`` (and then only files still as the run wrote
them).  ``rerun`` trains again with a run's settings, as ``train`` would, and says whether the weights
came out the same bit for bit.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import re
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

from engine.atomic import atomic_write
from engine.callbacks import SerialSteps
from engine.cli.arguments import DATASET_CHOICES, EXIT_OK, UsageError, check_writable_output
from engine.cli.recording import add_recording_arguments
from engine.cli.run_tables import duration, epochs_text, model_name, noise_text, number, table, when
from engine.cli.train import add_arguments as add_train_arguments
from engine.cli.train import run as run_train
from engine.model_format import ModelFileError, read_header
from engine.runs import RunRecord, RunRecorder, RunsDatabaseError, RunStore
from engine.runs.compare import environment_rows, epoch_rows, settings_rows
from engine.runs.environment import differences
from engine.runs.files import model_state
from engine.runs.recorder import METADATA_KEY
from engine.runs.store import STATUSES

NAME, HELP = "runs", "the recorded training runs: list, show, compare, export, delete, rerun"
DEFAULT_LIMIT = 50
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_arguments(runs: argparse.ArgumentParser) -> None:
    _add_list_options(runs, default=None)
    add_recording_arguments(runs, record=False)
    actions = runs.add_subparsers(dest="action", metavar="{list,show,compare,export,delete,rerun}")
    listing = actions.add_parser("list", help="the runs, newest first (the default)")
    _add_list_options(listing, default=argparse.SUPPRESS)
    show = actions.add_parser("show", help="everything recorded about a run")
    show.add_argument("id", type=int)
    compare = actions.add_parser("compare", help="runs side by side: settings (differences marked *), curves, scores")
    compare.add_argument("ids", type=int, nargs="*", metavar="ID")
    compare.add_argument("--sweep", type=int, metavar="SWEEP", help="the runs of a sweep (each cell's newest)")
    export = actions.add_parser("export", help="runs as CSV (one row a run) or JSON (everything, curves too)")
    form = export.add_mutually_exclusive_group(required=True)
    form.add_argument("--csv", action="store_true")
    form.add_argument("--json", action="store_true")
    export.add_argument("ids", type=int, nargs="*", metavar="ID", help="these runs (default: all, or as filtered)")
    export.add_argument("--output", "-o", help="write to this file (default: standard output)")
    export.add_argument("--status", choices=STATUSES, default=argparse.SUPPRESS)
    export.add_argument("--dataset", choices=DATASET_CHOICES, default=argparse.SUPPRESS)
    export.add_argument("--since", default=argparse.SUPPRESS)
    delete = actions.add_parser("delete", help="forget runs (model files stay unless --models)")
    delete.add_argument("ids", type=int, nargs="+", metavar="ID")
    delete.add_argument("--models", action="store_true",
                        help="also delete each run's model and checkpoint, if still as the run wrote them")  # fmt: skip
    rerun = actions.add_parser("rerun", help="train again with a run's settings (same machine and versions: "
                               "the same weights bit for bit)")  # fmt: skip
    rerun.add_argument("id", type=int)
    rerun.add_argument("--output", "-o", help="the new model file (default: run-ID-rerun.npz)")
    rerun.add_argument("--quiet", action="store_true", help="no progress bar")
    for each in (listing, show, compare, export, delete, rerun):
        each.add_argument("--runs-db", metavar="PATH", default=argparse.SUPPRESS, help="the runs database")


def _add_list_options(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--status", choices=STATUSES, default=default)
    parser.add_argument("--dataset", choices=DATASET_CHOICES, default=default)
    parser.add_argument("--since", default=default, metavar="WHEN",
                        help="runs started since a date (2026-12-01, '2026-12-01 14:00') or a time ago (30m, 12h, 2d)")
    parser.add_argument("--sweep", type=int, default=default, metavar="SWEEP", help="the runs of a sweep")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT if default is None else default,
                        help=f"at most this many runs (default {DEFAULT_LIMIT}; 0 for all)")  # fmt: skip
    parser.add_argument("--json", action="store_true", default=False if default is None else default,
                        help="print JSON for scripts")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    action = args.action or "list"
    if action == "rerun":
        return _rerun(args)
    try:
        store = RunStore(args.runs_db)
    except RunsDatabaseError as exc:
        if "read-only" not in exc.problem or action not in ("list", "show", "compare", "export"):
            raise
        store = RunStore(args.runs_db, readonly=True)
    with store:
        _reap(store)
        return {"list": _list, "show": _show, "compare": _compare, "export": _export, "delete": _delete}[action](
            args, store
        )


# ----- list -----------------------------------------------------------------------------------
def _filtered(args: argparse.Namespace, store: RunStore, limit: int | None = None) -> list[RunRecord]:
    dataset = getattr(args, "dataset", None)
    return store.runs(
        status=getattr(args, "status", None),
        dataset=dataset.replace("-", "_") if dataset else None,
        since=parse_since(args.since) if getattr(args, "since", None) else None,
        sweep=getattr(args, "sweep", None),
        limit=limit,
    )


def _list(args: argparse.Namespace, store: RunStore) -> int:
    if args.limit < 0:
        raise UsageError(f"--limit must be 0 (all) or more, got {args.limit}")
    found = _filtered(args, store, limit=args.limit + 1 if args.limit else None)
    shown = found[: args.limit] if args.limit else found
    if args.json:
        print(json.dumps([_summary(r) for r in shown], indent=1))
        return EXIT_OK
    if not shown:
        print(f"no runs recorded in {store.path} yet" if store.count() == 0 else "no runs match", file=sys.stderr)
        return EXIT_OK
    rows = [
        [r.id, when(r.started), r.status, r.dataset, r.layers, noise_text(r.settings), _lr(r.settings),
         epochs_text(r), number(r.test_mse), duration(r.seconds), model_name(r)]
        for r in shown
    ]  # fmt: skip
    headers = ["ID", "started", "status", "data", "layers", "noise", "lr", "epochs", "test MSE", "time", "model"]
    print(table(headers, rows, right=(0, 7, 8, 9)))
    if args.limit and len(found) > args.limit:
        total = store.count()
        print(f"the newest {args.limit} of {total:,} runs; --limit 0 shows all", file=sys.stderr)
    return EXIT_OK


# ----- show -----------------------------------------------------------------------------------
def _show(args: argparse.Namespace, store: RunStore) -> int:
    run = _get(store, args.id)
    ended = f", ended {when(run.ended)}" if run.ended else ""
    print(f"run {run.id}: {run.status} ({run.source}; started {when(run.started)}{ended}; "
          f"trained {duration(run.seconds)}, {epochs_text(run)} epochs)")  # fmt: skip
    if run.error:
        print(f"  why: {run.error}")
    if run.command:
        print(f"  command: {run.command}")
    if run.sweep_id is not None:
        print(f"  sweep {run.sweep_id}, cell: {run.cell}")
    print("settings")
    print(_indent(table(["", ""], [[r.name, _value(r.values[0])] for r in settings_rows([run])])))
    print("versions and machine")
    print(_indent(table(["", ""], [[r.name, _value(r.values[0])] for r in environment_rows([run])])))
    if run.scores:
        print(f"scores: {_scores_text(run.scores)}")
    print(f"model: {_model_state(run)}")
    if run.checkpoint_path:
        print(f"checkpoint: {run.checkpoint_path}")
    for line in _lineage(store, run):
        print(line)
    if run.epochs:
        rows = [_epoch_row(e) for e in run.epochs]
        headers = ["epoch", "train loss", "test loss", "test MSE", "img/s", "time", ""]
        print(_indent(table(headers, rows, right=(0, 1, 2, 3, 4, 5)), header=True))
    if len(run.curve_x):
        print(f"per-batch curve: {len(run.curve_x)} points, each the mean of {run.curve_stride or 1} batch(es) "
              "(runs export --json holds them)")  # fmt: skip
    return EXIT_OK


def _epoch_row(e: dict) -> list:
    cut = "" if (e["progress"] or 1) >= 1 else f"stopped at {e['progress']:.0%}"
    speed = f"{e['samples_per_s']:,.0f}" if e["samples_per_s"] else "-"
    return [e["epoch"] + 1, number(e["loss"]), number(e["val_loss"]), number(e["val_mse"]), speed,
            duration(e["seconds"]), cut]  # fmt: skip


def _model_state(run: RunRecord) -> str:
    """The model file and whether it is still the one the run saved (SHA-256)."""
    state = model_state(run.model_path, run.model_sha256)
    if state == "not saved":
        return "not saved" if run.status != "running" else "not saved yet"
    words = {"unchanged": "unchanged since the run saved it", "changed": "CHANGED since the run saved it (SHA-256 "
             "differs)", "missing": "gone: no file there now", "unreadable": "cannot be read"}  # fmt: skip
    return f"{run.model_path} ({words[state]}; SHA-256 {run.model_sha256})"


def _lineage(store: RunStore, run: RunRecord) -> list[str]:
    """Where the run's weights came from, what it repeated, and who repeated or continued it."""
    lines = []
    if run.resumed_from:
        lines.append(f"continues: {_name(store, run.resumed_from)} (trained further from its weights)")
    if run.rerun_of:
        lines.append(f"rerun of: {_name(store, run.rerun_of)}: {_same_weights(store, run, run.rerun_of)}")
    for other in store.followers(run.uuid):
        how = "rerun" if other.rerun_of == run.uuid else "continued"
        lines.append(f"{how} as run {other.id} ({other.status})")
    return lines


def _same_weights(store: RunStore, run: RunRecord, original_uuid: str) -> str:
    """Whether a rerun's weights equal the original's bit for bit; if not, what differs besides the settings."""
    original_id = store.find_uuid(original_uuid)
    original = store.get(original_id) if original_id is not None else None
    if original is None:
        return "the original is not in this database"
    if not (run.weights_sha256 and original.weights_sha256):
        return "cannot compare the weights (a run did not finish)"
    if run.weights_sha256 == original.weights_sha256:
        return "the same weights, bit for bit"
    changed = differences(original.versions, run.versions) + differences(original.machine, run.machine)
    changed += [f"{r.name} {_value(r.values[0])} / {_value(r.values[1])}" for r in settings_rows([original, run])
                if r.differs and r.name not in ("data_dir",)]  # fmt: skip
    why = "; ".join(changed) if changed else "the same settings, versions and machine: the data files may differ"
    return f"the weights DIFFER ({why})"


def _name(store: RunStore, uuid: str) -> str:
    run_id = store.find_uuid(uuid)
    return f"run {run_id}" if run_id is not None else f"a run not in this database ({uuid})"


# ----- compare --------------------------------------------------------------------------------
def _compare(args: argparse.Namespace, store: RunStore) -> int:
    runs = [_get(store, i) for i in args.ids]
    if args.sweep is not None:
        if not store.sweep_exists(args.sweep):
            raise UsageError(f"no sweep {args.sweep} in {store.path}")
        runs += [store.get(r.id) for r in store.sweep_cells(args.sweep).values() if r.id not in args.ids]
    if len(runs) < 2:
        raise UsageError("give two or more run IDs to compare, or --sweep with a sweep of two or more runs")
    print(compare_text(runs))
    return EXIT_OK


def compare_text(runs: list[RunRecord]) -> str:
    """Settings side by side (``*``: the runs differ), versions and machine, test loss by epoch, final scores."""
    names = [f"run {r.id}" for r in runs]
    parts = []
    for title, rows in (("settings", settings_rows(runs)), ("versions and machine", environment_rows(runs))):
        lines = [["*" if r.differs else "", r.name, *(_value(v) for v in r.values)] for r in rows]
        parts.append(f"{title} (* where the runs differ)\n" + table(["", "", *names], lines))
    epochs = epoch_rows(runs)
    if epochs:
        lines = [["", epoch + 1, *(number(v) for v in values)] for epoch, values in epochs]
        parts.append("test loss by epoch\n" + table(["", "epoch", *names], lines, right=range(1, len(names) + 2)))
    final = [
        ["", "status", *(r.status for r in runs)],
        ["", "epochs", *(epochs_text(r) for r in runs)],
        ["", "test MSE", *(number(r.test_mse) for r in runs)],
        ["", "PSNR dB", *(number(r.scores.get("psnr"), 2) for r in runs)],
        ["", "noisy input MSE", *(number(r.scores.get("noisy_mse")) for r in runs)],
        ["", "time", *(duration(r.seconds) for r in runs)],
        ["", "model", *(model_name(r) for r in runs)],
    ]
    parts.append("scores\n" + table(["", "", *names], final))
    return "\n\n".join(parts)


# ----- export ---------------------------------------------------------------------------------
def _export(args: argparse.Namespace, store: RunStore) -> int:
    runs = [_get(store, i) for i in args.ids] if args.ids else _filtered(args, store)
    full = [store.get(r.id) for r in runs]
    text = _json_export(full) if args.json else _csv_export(full)
    if args.output:
        output = Path(args.output)
        check_writable_output(output, "--output")
        atomic_write(output, lambda f: f.write(text.encode()))
        print(f"exported {len(full)} run(s) to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _json_export(runs: list[RunRecord]) -> str:
    records = []
    for run in runs:
        record = _summary(run)
        record["epochs"] = [{k: _finite(v) for k, v in e.items()} for e in run.epochs]
        record["curve"] = {"epoch": [round(float(x), 6) for x in run.curve_x],
                           "loss": [_finite(round(float(y), 7)) for y in run.curve_loss], "stride": run.curve_stride}
        records.append(record)  # fmt: skip
    return json.dumps(records, indent=1) + "\n"


def _csv_export(runs: list[RunRecord]) -> str:
    """One row a run: its columns, then every setting, score, version and machine field (prefixed)."""
    rows = []
    for run in runs:
        row = {k: v for k, v in _summary(run).items() if not isinstance(v, dict)}
        for group in ("settings", "scores", "versions", "machine"):
            for key, value in getattr(run, group).items():
                if key != "layer_specs":
                    row[f"{group}.{key}"] = json.dumps(value) if isinstance(value, (list, dict)) else value
        rows.append(row)
    names: list[str] = []
    for row in rows:
        names += [n for n in row if n not in names]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _summary(run: RunRecord) -> dict:
    """A run as plain JSON values (no epochs, no curve; NaN and infinities as null)."""
    skip = ("epochs", "curve_x", "curve_loss", "heartbeat", "process", "updated")
    values = {k: _finite(v) for k, v in vars(run).items() if k not in skip}
    values["started_iso"] = datetime.fromtimestamp(run.started).isoformat(timespec="seconds")
    return values


def _finite(value):
    """``value`` with every float that JSON cannot hold (NaN, infinities) as None, through dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# ----- delete ---------------------------------------------------------------------------------
def _delete(args: argparse.Namespace, store: RunStore) -> int:
    runs = [_get(store, i) for i in dict.fromkeys(args.ids)]
    for run in runs:
        if run.status == "running":
            raise UsageError(f"run {run.id} is still running (pid {run.pid} on {run.host}); stop it first")
    notes = []
    if args.models:
        for run in runs:
            notes += _delete_files(run)
    store.delete(r.id for r in runs)
    for note in notes:
        print(note, file=sys.stderr)
    ids = ", ".join(str(r.id) for r in runs)
    kept = "" if args.models else " (their model files are kept; --models deletes them too)"
    print(f"deleted run{'s' if len(runs) > 1 else ''} {ids}{kept}", file=sys.stderr)
    return EXIT_OK


def _delete_files(run: RunRecord) -> list[str]:
    """Delete a run's model (if its SHA-256 is the one recorded) and checkpoint (if it still names this run)."""
    notes = []
    state = model_state(run.model_path, run.model_sha256)
    if state == "unchanged":
        Path(run.model_path).unlink()
        notes.append(f"deleted {run.model_path}")
    elif state in ("changed", "unreadable"):
        notes.append(f"kept {run.model_path}: it changed since run {run.id} saved it (or cannot be read)")
    checkpoint = Path(run.checkpoint_path) if run.checkpoint_path else None
    if checkpoint is not None and checkpoint.is_file():
        try:
            ours = read_header(checkpoint).get("metadata", {}).get(METADATA_KEY) == run.uuid
        except ModelFileError:
            ours = False
        if ours:
            checkpoint.unlink()
            notes.append(f"deleted {checkpoint}")
        else:
            notes.append(f"kept {checkpoint}: another run (or program) has written it since")
    return notes


# ----- rerun ----------------------------------------------------------------------------------
def _rerun(args: argparse.Namespace) -> int:
    with RunStore(args.runs_db) as store:
        original = _get(store, args.id)
    train_args, warnings = rerun_arguments(original, args.output, args.quiet)
    for warning in warnings:
        print(f"note: {warning}", file=sys.stderr)
    command = shlex.join(["denoise-studio", "runs", "rerun", str(original.id)])
    recorder = RunRecorder(args.runs_db, source="cli", links={"rerun_of": original.uuid, "command": command})
    watchers = [SerialSteps()] if original.settings.get("steps") == "serial" else []
    code = run_train(train_args, recorder=recorder, watchers=watchers)
    if recorder.run_id is not None and not recorder.failed_to_record:
        with RunStore(args.runs_db) as store:
            rerun = store.get(recorder.run_id)
            print(f"rerun of run {original.id} recorded as run {rerun.id}: "
                  f"{_same_weights(store, rerun, original.uuid)}", file=sys.stderr)  # fmt: skip
    return code


def rerun_arguments(run: RunRecord, output: str | None, quiet: bool) -> tuple[argparse.Namespace, list[str]]:
    """``train``'s arguments for a new run with ``run``'s settings, and notes on what cannot be the same."""
    s = run.settings
    if not s.get("dataset") or not s.get("layers") or s.get("seed") is None:
        raise UsageError(f"run {run.id} trained on images a program gave it, not a named data set: it cannot be "
                         "rerun from the command line")  # fmt: skip
    noise = s["noise"]
    argv = ["--layers", s["layers"], "--epochs", str(s["epochs"]), "--batch-size", str(s["batch_size"]),
            "--lr", repr(float(s["lr"])), "--optimizer", s["optimizer"], "--momentum", repr(float(s["momentum"])),
            "--noise", f"{noise[0]!r}:{noise[1]!r}" if isinstance(noise, list) else repr(float(noise)),
            "--noise-kind", s["noise_kind"].replace("_", "-"), "--loss", s["loss"], "--seed", str(s["seed"]),
            "--train-size", str(s["train_size"]), "--test-size", str(s.get("test_size") or 10000),
            "--dataset", s["dataset"].replace("_", "-"),
            "--output", output or f"run-{run.id}-rerun.npz"]  # fmt: skip
    if s.get("skip"):
        argv += ["--skip", s["skip"]]
    if s.get("noise_weighting") is not None:
        argv += ["--noise-weighting", repr(float(s["noise_weighting"]))]
    notes = []
    if s.get("data_dir") and Path(s["data_dir"]).is_dir():
        argv += ["--data", s["data_dir"]]
    elif s.get("data_dir"):
        notes.append(f"the data folder {s['data_dir']} is gone; the rerun reads {s['dataset']} where train finds it")
    if quiet:
        argv.append("--quiet")
    if run.resumed_from:
        notes.append(f"run {run.id} trained further a model another run had trained; the rerun starts from a fresh "
                     f"model seeded {s['seed']}, so its weights will differ")  # fmt: skip
    parser = argparse.ArgumentParser(prog="denoise-studio train")
    add_train_arguments(parser)
    try:
        return parser.parse_args(argv), notes
    except SystemExit:
        raise UsageError(f"run {run.id}'s recorded settings are not valid train arguments") from None


# ----- shared ---------------------------------------------------------------------------------
def _get(store: RunStore, run_id: int) -> RunRecord:
    run = store.get(run_id)
    if run is None:
        raise UsageError(f"no run {run_id} in {store.path} (denoise-studio runs lists them)")
    return run


def _reap(store: RunStore) -> None:
    """Record runs whose process died as crashed (what every reader shows anyway); a read-only file is left as is."""
    with contextlib.suppress(RunsDatabaseError):
        store.reap()


def parse_since(text: str) -> float:
    """``--since``: a date or date and time (local), or a time ago (``30m``, ``12h``, ``2d``, ``1w``)."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        return time.time() - float(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise UsageError(f"--since {text!r}: give a date (2026-12-01), a date and time ('2026-12-01 14:00') "
                         "or a time ago (30m, 12h, 2d, 1w)") from None  # fmt: skip


def _lr(settings: dict) -> str:
    lr = settings.get("lr")
    return "-" if lr is None else f"{lr:g}"


def _value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ":".join(_value(v) for v in value)
    return str(value)


def _scores_text(scores: dict) -> str:
    level = scores.get("level")
    where = f" at {'σ' if scores.get('kind', 'gaussian') == 'gaussian' else 'fraction'} {level:g}" if level else ""
    noisy = f"; the noisy input {number(scores['noisy_mse'])}" if scores.get("noisy_mse") is not None else ""
    return f"test MSE {number(scores.get('mse'))}, PSNR {number(scores.get('psnr'), 2)} dB{where}{noisy}"


def _indent(text: str, header: bool = False) -> str:
    """A table indented under its title; without its (empty) header row unless ``header``."""
    return "\n".join("  " + line for line in text.splitlines()[0 if header else 1 :])

