"""A run's network built again as it started: its layers and skip path, initialised with its seed as
``denoise-studio train`` does.

Training that network with the run's settings on the same data repeats the run (bit for bit on the same
machine and versions) when the run itself started from such a network; ``starting_model`` says whether it
did, from the SHA-256 of the weights the run began with.
"""

from __future__ import annotations

from engine.nn import MLP, build_mlp
from engine.runs.files import weights_sha256
from engine.runs.store import RunRecord


def starting_model(run: RunRecord) -> tuple[MLP, bool | None]:
    """(a fresh network with ``run``'s layers and skip path (a gate, a residual, none), its weights drawn with the
    run's seed; whether they are the weights the run started from — None when the run recorded none).  Raises
    ``ValueError`` when the run recorded no layers (or skip path) this engine can build."""
    specs = run.settings.get("layer_specs")
    if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
        raise ValueError(f"run {run.id} recorded no layers")
    try:
        widths = [int(specs[0]["n_in"])] + [int(s["n_out"]) for s in specs]
        activations = [str(s["activation"]) for s in specs]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"run {run.id} recorded layers this version cannot build: {run.layers}") from None
    seed = run.settings.get("seed", 0)
    skip = run.settings.get("skip")  # None for a plain network (and a run recorded before skip paths)
    try:
        model = build_mlp(widths, activations, seed=seed if isinstance(seed, int) and seed >= 0 else 0, skip=skip)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"run {run.id}'s layers {run.layers} cannot be built: {exc}") from None
    same = None if not run.init_sha256 else weights_sha256(model.params) == run.init_sha256
    return model, same
