"""The joiner on the real KoNViD-1k metadata (../shared/real); skipped when the data is absent
(failed under SECOND_OPINION_REQUIRE_DATA=1). Also the rule that decides between the two."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from second_opinion import JoinSpec, SidecarSpec, join
from tests._paths import (
    KONVID,
    KONVID_FILES,
    REQUIRE_DATA,
    check_real_data,
    data_required,
    missing_real_data,
    needs_real_data,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = KONVID
METADATA = DATA / "KONVID_1K_metadata.csv"


@pytest.mark.slow
@needs_real_data
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


# --- the rule: skip without the data, fail when it is required ------------------------------


def _partial_data(tmp_path: Path) -> Path:
    folder = tmp_path / "real" / "konvid-1k"
    folder.mkdir(parents=True)
    for name in KONVID_FILES[:2]:
        (folder / name).write_bytes(b"")
    return tmp_path / "real"


def test_absent_data_skips_naming_the_folder_and_the_missing_files(tmp_path: Path) -> None:
    real = _partial_data(tmp_path)
    with pytest.raises(pytest.skip.Exception) as caught:
        check_real_data(real, required=False)
    assert str(caught.value) == (
        f"no real data at {real / 'konvid-1k'} (missing: KONVID_1K_NIQE_scores.mat, "
        "KONVID_1K_VIDEVAL_feats.mat); put the files there (docs/real-data.md) or point "
        "SECOND_OPINION_DATA at the folder holding konvid-1k/"
    )


def test_absent_data_fails_when_required(tmp_path: Path) -> None:
    real = tmp_path / "nowhere"
    with pytest.raises(pytest.fail.Exception) as caught:
        check_real_data(real, required=True)
    message = str(caught.value)
    assert message.startswith(f"no real data at {real / 'konvid-1k'} (missing: {KONVID_FILES[0]}")
    assert message.endswith(
        "SECOND_OPINION_DATA at the folder holding konvid-1k/; "
        "SECOND_OPINION_REQUIRE_DATA=1 makes this a failure, not a skip"
    )


def test_present_data_passes_in_both_modes(tmp_path: Path) -> None:
    real = _partial_data(tmp_path)
    for name in KONVID_FILES:
        (real / "konvid-1k" / name).write_bytes(b"")
    assert missing_real_data(real) is None
    assert check_real_data(real, required=False) == real
    assert check_real_data(real, required=True) == real


@pytest.mark.parametrize(
    ("value", "required"), [(None, False), ("", False), ("0", False), ("1", True), ("yes", True)]
)
def test_the_variable_asks_for_the_data(value: str | None, required: bool) -> None:
    environ = {} if value is None else {REQUIRE_DATA: value}
    assert data_required(environ) is required


@pytest.mark.parametrize(
    ("require", "outcome", "returncode"), [("0", "1 skipped", 0), ("1", "1 error", 1)]
)
def test_a_real_data_test_honours_both_variables(
    tmp_path: Path, require: str, outcome: str, returncode: int
) -> None:
    """Through pytest itself: SECOND_OPINION_DATA moves the data, the other variable decides
    (a failure in the set-up is reported as an error, and fails the run)."""
    env = {**os.environ, "SECOND_OPINION_DATA": str(tmp_path / "nowhere"), REQUIRE_DATA: require}
    test = "tests/test_real_data.py::test_konvid_ids_match_paths_after_normalisation"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "-rfs", test],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert outcome in result.stdout, result.stdout
    assert result.returncode == returncode, result.stdout
    assert f"no real data at {tmp_path / 'nowhere' / 'konvid-1k'}" in result.stdout
