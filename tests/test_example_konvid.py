"""examples/konvid-1k: the real-data example runs end to end (skipped without ../shared/real).

The committed manifest runs the full protocol (100 splits, SVR: minutes); here the same manifest
runs with a short audit (3 splits, ridge) to prove the path, and the committed one is validated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]

from tests._paths import REAL, needs_real_data
from tests.cli._run import ENV, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "konvid-1k"
DATA = REAL

pytestmark = [pytest.mark.slow, needs_real_data]


def test_the_committed_manifest_is_valid() -> None:
    result = run_cli(
        "validate", EXAMPLE / "manifest.json", env={**ENV, "SECOND_OPINION_DATA": str(DATA)}
    )
    assert result.returncode == 0, result.stderr
    assert "valid, 1 job(s)" in result.stdout


def test_the_example_ingests_joins_three_real_scorers_and_audits(tmp_path: Path) -> None:
    manifest = json.loads((EXAMPLE / "manifest.json").read_text(encoding="utf-8"))
    manifest["audit"] |= {"splits": 3, "model": "ridge", "bootstrap": 50, "folds": 3}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "out"
    env = {**ENV, "SECOND_OPINION_DATA": str(DATA), "SECOND_OPINION_OUT": str(out)}

    result = run_cli("batch", path, "--json", env=env)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["jobs"][0]["coverage"] == {"videval": 1.0, "brisque": 1.0, "niqe": 1.0}
    assert summary["audit"]["status"] == "built"
    table = pq.read_table(out / "konvid-1k.parquet")
    assert table.num_rows == 1200
    names = table.column_names
    assert names[:2] == ["clip_id", "mos"]
    assert [n for n in names if n.startswith("so_videval_")] == [
        f"so_videval_f{i:02d}" for i in range(1, 61)
    ]
    assert len([n for n in names if n.startswith("so_brisque_")]) == 36
    # Row 17 of the NIQE matrix is the clip on row 17 of the metadata, whatever the join order.
    niqe = scipy.io.loadmat(DATA / "konvid-1k" / "KONVID_1K_NIQE_scores.mat")["y_pred"].ravel()
    rows = dict(
        zip(
            table.column("clip_id").to_pylist(),
            table.column("so_niqe_score").to_pylist(),
            strict=True,
        )
    )
    with (DATA / "konvid-1k" / "KONVID_1K_metadata.csv").open(encoding="utf-8") as handle:
        ids = [line.split(",", 1)[0] for line in handle.read().splitlines()[1:]]
    assert rows[ids[17]] == pytest.approx(float(niqe[17]))

    report = json.loads((out / "audit" / "audit.json").read_text(encoding="utf-8"))
    signals = report["corpora"]["konvid-1k"]["signals"]
    assert list(signals) == ["videval", "brisque", "niqe"]
    assert signals["niqe"]["higher_is_better"] is False  # from the job's provenance
    assert signals["niqe"]["full"]["srcc"] < 0
    assert signals["niqe"]["direction_agrees"] is True
    gain = report["gain"]["konvid-1k"]
    assert gain["baseline"] == "videval"
    assert list(gain["second_opinions"]) == ["brisque", "niqe"]
    assert gain["all"] is not None
