"""What an ingest read and wrote: :class:`IngestReport` and the :class:`DroppedRow` it lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from second_opinion._typing import PresetName, ScoreKind
from second_opinion.ingest.presets import Scale
from second_opinion.tables.memory import MemoryTable, TablePath

EXAMPLES = 5  # dropped rows listed in a report


@dataclass(frozen=True)
class DroppedRow:
    """A row left out by ``drop_missing_mos``: where it is and why."""

    where: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class IngestReport:
    """What :func:`ingest` read and wrote."""

    preset: PresetName
    metadata: TablePath
    output: Path
    rows: int
    dropped: int
    dropped_rows: tuple[DroppedRow, ...]  # the first few, in file order
    out_of_scale: int  # rows kept with ``allow_out_of_scale``
    mos_scale: Scale
    score_kind: ScoreKind
    id_column: str
    mos_column: str
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with a fixed key order."""
        return {
            "preset": self.preset,
            "metadata": (
                self.metadata.describe()
                if isinstance(self.metadata, MemoryTable)
                else str(self.metadata)
            ),
            "output": str(self.output),
            "rows": self.rows,
            "dropped": self.dropped,
            "dropped_rows": [d.to_dict() for d in self.dropped_rows],
            "out_of_scale": self.out_of_scale,
            "mos_scale": list(self.mos_scale),
            "score_kind": self.score_kind,
            "id_column": self.id_column,
            "mos_column": self.mos_column,
            "columns": list(self.columns),
        }
