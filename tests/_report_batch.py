"""A batch whose last run has every status, for the batch report's tests.

The smoke scaffold's two jobs, plus: ``corpus-a-plus`` (reads corpus-a's output: an arrow in the
graph), ``broken`` (a NIQE sidecar whose keys match none of corpus B's: 0 % coverage, below its
``min_coverage``, so it fails) and ``after-broken`` (reads broken's output, so it is skipped).
:func:`run_twice` runs it, then edits corpus B's features and adds ``corpus-c``: the second run
has ``up-to-date``, ``rebuilt``, ``built``, ``failed`` and ``skipped`` jobs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests._scaffold import SCAFFOLD

FAST_AUDIT = {"tables": ["corpus-a"], "splits": 3, "bootstrap": 20, "model": "ridge", "folds": 2}
"""An audit of corpus-a that takes seconds (as in tests/batch/test_audit_batch.py)."""
SECOND_RUN = {
    "corpus-a": "up-to-date",
    "corpus-b": "rebuilt",
    "corpus-a-plus": "up-to-date",
    "broken": "failed",
    "after-broken": "skipped",
    "corpus-c": "built",
}
"""Each job's status in the second run of :func:`run_twice`, in report order."""

NIQE = {
    "scorer": "niqe",
    "path": "scores_a_niqe.jsonl",
    "columns": ["niqe"],
    "key_map": {"video": "clip_id"},
}


def write_manifest(folder: Path, *, audit: bool = False) -> Path:
    """The scaffold copied into ``folder`` with the extra jobs; outputs go to ``folder/out``."""
    shutil.copytree(SCAFFOLD, folder, ignore=shutil.ignore_patterns("expected"), dirs_exist_ok=True)
    data = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    data["output_dir"] = "out"
    data["jobs"] += [
        {
            "name": "corpus-a-plus",
            "features": "${output_dir}/corpus-a.jsonl",
            "sidecars": [
                {**NIQE, "scorer": "niqe2", "normalize_keys": ["basename", "stem", "lower"]}
            ],
            "output": "corpus-a-plus.csv",
        },
        {
            "name": "broken",
            "features": "features_corpus_b.csv",
            "sidecars": [{**NIQE, "min_coverage": 0.5}],
            "output": "broken.csv",
        },
        {
            "name": "after-broken",
            "features": "${output_dir}/broken.csv",
            "sidecars": [data["jobs"][1]["sidecars"][0]],
            "output": "after-broken.csv",
        },
    ]
    if audit:
        data["audit"] = FAST_AUDIT
    path = folder / "batch.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def add_corpus_c(manifest: Path) -> None:
    """Edit corpus B's features (corpus-b rebuilds) and add corpus-c (it is built)."""
    features = manifest.parent / "features_corpus_b.csv"
    features.write_text(features.read_text(encoding="utf-8") + "4999,50.0,0.9,0.5,1.0\n")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["jobs"].append({**data["jobs"][1], "name": "corpus-c", "output": "corpus-c.csv"})
    manifest.write_text(json.dumps(data, indent=2), encoding="utf-8")


def run_twice(folder: Path, run: Callable[[Path], Any], *, audit: bool = False) -> Path:
    """Write the manifest in ``folder``, ``run`` it, edit it (:func:`add_corpus_c`) and ``run`` it
    again; the output_dir."""
    manifest = write_manifest(folder, audit=audit)
    run(manifest)
    add_corpus_c(manifest)
    run(manifest)
    return folder / "out"
