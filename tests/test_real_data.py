"""The joiner on the real KoNViD-1k metadata (../shared/real); skipped when the data is absent."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from second_opinion import JoinSpec, SidecarSpec, join
from tests._paths import KONVID

ROOT = Path(__file__).resolve().parents[1]
DATA = KONVID
METADATA = DATA / "KONVID_1K_metadata.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not METADATA.is_file(), reason=f"no real data at {DATA}"),
]


def test_konvid_ids_match_paths_after_normalisation(tmp_path: Path) -> None:
    with METADATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1200
    rng = random.Random(1200)
    kept = rng.sample(rows, 1190)  # 10 clips have no score; the sample is also shuffled
    sidecar = tmp_path / "bitrate.jsonl"
    with sidecar.open("w", encoding="utf-8") as handle:
        for row in kept:
            record = {
                "video": f"/data/KoNViD/{row['flickr_id']}.MP4",
                "kbps": int(row["bitrate"]) / 1000,
            }
            handle.write(json.dumps(record) + "\n")
        for extra in ("1.mp4", "2.mp4", "3.mp4"):
            handle.write(json.dumps({"video": extra, "kbps": 1.0}) + "\n")

    spec = SidecarSpec(
        scorer="probe",
        path=sidecar,
        key_map={"video": "flickr_id"},
        normalize_keys=("basename", "stem", "lower"),
    )
    result = join(JoinSpec(features=METADATA, key=("flickr_id",), sidecars=(spec,)))

    report = result.coverage[0]
    assert (report.base_rows, report.matched, report.missing, report.extra) == (1200, 1190, 10, 3)
    table = result.table.to_pylist()
    assert [r["flickr_id"] for r in table] == [r["flickr_id"] for r in rows]
    assert table[0]["mos"] == pytest.approx(float(rows[0]["mos"]))
    by_id = {r["flickr_id"]: int(r["bitrate"]) / 1000 for r in kept}
    for row in table:
        assert row["so_probe_kbps"] == by_id.get(row["flickr_id"])
    missing = {r["flickr_id"] for r in rows} - by_id.keys()
    assert {u.key[0] for u in report.unmatched_base} <= missing
