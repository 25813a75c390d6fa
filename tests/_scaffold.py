"""The bundled smoke scaffold copied into a test's folder, for runner and fault tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from second_opinion.batch.outcomes import JobResult
from second_opinion.batch.runner import BatchResult, run_batch
from second_opinion.provenance import provenance_path

ROOT = Path(__file__).resolve().parents[1]
SCAFFOLD = ROOT / "testdata" / "smoke-second-opinion-batch"
JOBS = ("corpus-a", "corpus-b")
OUTPUTS = {"corpus-a": "corpus-a.jsonl", "corpus-b": "corpus-b.csv"}


@dataclass(frozen=True)
class Scaffold:
    """A private copy of the smoke scaffold, and the folder its outputs go to."""

    folder: Path
    out: Path

    @classmethod
    def copy_into(cls, tmp_path: Path) -> Scaffold:
        """Copy the scaffold to ``tmp_path/scaffold``; outputs go to ``tmp_path/out``."""
        folder = tmp_path / "scaffold"
        shutil.copytree(SCAFFOLD, folder)
        return cls(folder, tmp_path / "out")

    @property
    def manifest(self) -> Path:
        return self.folder / "batch.json"

    def output(self, job: str) -> Path:
        """Where job ``job`` writes, as the manifest says."""
        data = json.loads(self.manifest.read_text(encoding="utf-8"))
        relative = data["jobs"][JOBS.index(job)]["output"]
        return Path(relative) if Path(relative).is_absolute() else self.out / relative

    def input(self, name: str) -> Path:
        return self.folder / name

    def record(self, job: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(provenance_path(self.output(job)).read_text("utf-8"))
        return data

    def run(self, **options: Any) -> BatchResult:
        return run_batch(self.manifest, out_dir=self.out, **options)

    def edit_manifest(self, edit: Callable[[dict[str, Any]], None]) -> None:
        data = json.loads(self.manifest.read_text(encoding="utf-8"))
        edit(data)
        self.manifest.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def set_output(self, job: str, relative: str) -> None:
        self.edit_manifest(lambda data: data["jobs"][JOBS.index(job)].update(output=relative))


def outcome(result: BatchResult) -> dict[str, tuple[str, str]]:
    """Status and reason of each job."""
    return {j.name: (j.status, j.reason) for j in result.jobs}


def by_name(result: BatchResult) -> dict[str, JobResult]:
    return {j.name: j for j in result.jobs}
