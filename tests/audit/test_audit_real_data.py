"""`second-opinion audit` end to end on real KoNViD-1k scores (../shared/real); skipped without it.

The table is built here from the real files: the metadata's ids and MOS, NIQE's ``y_pred`` and
BRISQUE's 36 features, in the metadata's row order (the .mat files are aligned to it).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from second_opinion.audit.options import AuditOptions
from second_opinion.audit.report import audit_json
from second_opinion.audit.run import run_audit
from tests._paths import KONVID, needs_real_data
from tests.cli._run import run_cli

ROOT = Path(__file__).resolve().parents[2]
DATA = KONVID

pytestmark = [pytest.mark.slow, needs_real_data]


@pytest.fixture(scope="module")
def konvid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with (DATA / "KONVID_1K_metadata.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    niqe = scipy.io.loadmat(DATA / "KONVID_1K_NIQE_scores.mat")
    brisque = scipy.io.loadmat(DATA / "KONVID_1K_BRISQUE_feats.mat")["feats_mat"]
    mos = np.array([float(row["mos"]) for row in rows])
    columns: dict[str, object] = {
        "flickr_id": [row["flickr_id"] for row in rows],
        "mos": mos,
        "so_niqe_score": np.ravel(niqe["y_pred"]).astype(np.float64),
    }
    for i in range(brisque.shape[1]):
        columns[f"so_brisque_f{i + 1:02d}"] = brisque[:, i].astype(np.float64)
    # The metadata's MOS and the NIQE file's MOS are the same numbers, in the same order.
    np.testing.assert_allclose(mos, np.ravel(niqe["MOS"]), atol=1e-6)
    path = tmp_path_factory.mktemp("konvid") / "konvid-1k.parquet"
    pq.write_table(pa.table(columns), path)
    return path


def test_the_cli_reproduces_the_published_niqe_numbers(konvid: Path, tmp_path: Path) -> None:
    result = run_cli(
        "audit",
        konvid,
        "--signal",
        "niqe=so_niqe_*",
        "--bootstrap",
        "200",
        "--out",
        tmp_path / "report",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    niqe = report["corpora"]["konvid-1k"]["signals"]["niqe"]
    assert niqe["n"] == 1200
    assert niqe["training_free"] is True
    # Tu et al. 2021 (UGC-VQA), KoNViD-1k, NIQE: median |SRCC| 0.5417, PLCC 0.5530 over 100 splits.
    assert niqe["splits"]["srcc"]["median"] == pytest.approx(0.5417, abs=0.001)
    assert niqe["splits"]["plcc"]["median"] == pytest.approx(0.5530, abs=0.001)
    mos = pq.read_table(konvid).column("mos").to_numpy()
    score = pq.read_table(konvid).column("so_niqe_score").to_numpy()
    assert niqe["full"]["srcc"] == pytest.approx(stats.spearmanr(score, mos).statistic, abs=1e-12)
    assert niqe["full"]["srcc"] < 0  # lower is better: the sign is kept
    low, high = niqe["full"]["srcc_ci"]
    assert low < niqe["full"]["srcc"] < high
    assert json.loads((tmp_path / "report" / "audit.json").read_text()) == report


def test_brisque_adds_to_niqe_and_the_report_says_so(konvid: Path) -> None:
    options = AuditOptions(
        baseline="niqe=so_niqe_score", splits=5, model="ridge", bootstrap=0, folds=3
    )
    report = audit_json(run_audit([konvid], options))
    gain = report["gain"]["konvid-1k"]
    assert gain["baseline"] == "niqe"
    brisque = gain["second_opinions"]["brisque"]
    assert len(brisque["columns"]) == 1 + 36
    # BRISQUE's 36 features carry far more than NIQE's single score: every split improves.
    assert brisque["delta_srcc"]["median"] > 0.05
    assert brisque["win_fraction"] == 1.0
    signals = report["corpora"]["konvid-1k"]["signals"]
    assert list(signals) == ["niqe", "brisque"]
    assert signals["brisque"]["model"] == "ridge"
    assert signals["brisque"]["full"]["srcc_ci"] is None
