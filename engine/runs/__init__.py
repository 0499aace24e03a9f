"""The runs database: every training run kept, compared and repeatable.

- ``store``: the SQLite file (WAL, busy timeout, short transactions), ``RunStore`` and ``RunRecord``
- ``schema``: its tables, one migration per schema version
- ``recorder``: ``RunRecorder``, the callback on the Trainer loop that records a run as it happens
- ``curve``: the per-batch loss curve thinned to a bounded size
- ``liveness``: heartbeats and process checks (a run whose process died is *crashed*)
- ``environment``: the versions and machine a run's numbers depend on
- ``compare``: runs' settings side by side, differences marked
- ``files``: SHA-256 of model files and weights; is a run's model still the one it saved?
- ``grid``: a sweep's cells, keys and model names
- ``again``: a run's network built again as it started (its layers, its seed)
- ``aside``: a damaged database moved aside (with its log files; nothing overwritten or deleted)
"""

from engine.runs.recorder import RunRecorder
from engine.runs.store import DATABASE_ENV, RunRecord, RunsDatabaseError, RunStore, database_path

__all__ = ["DATABASE_ENV", "RunRecord", "RunRecorder", "RunStore", "RunsDatabaseError", "database_path"]
