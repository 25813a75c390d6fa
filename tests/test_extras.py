"""The package without any optional extra: with onnxruntime, h5py, matplotlib and ray made
unimportable in a child Python before ``second_opinion`` is imported, the library joins, ingests
and audits (a note in each plot's place), and the CLI names the extra a feature needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._extras import BLOCKER
from tests._scaffold import SCAFFOLD, Scaffold
from tests.cli._run import ENV

LIBRARY = """
import json, sys
from pathlib import Path

import second_opinion as so

data, out = Path(sys.argv[1]), Path(sys.argv[2])
niqe = so.SidecarSpec(
    scorer="niqe", path=data / "scores_a_niqe.jsonl", key_map={"video": "clip_id"},
    normalize_keys=["basename", "stem", "lower"],
)
spec = so.JoinSpec(features=data / "features_corpus_a.jsonl", key=["clip_id"], sidecars=[niqe])
joined = so.join_to_file(spec, out / "joined.jsonl")
ingested = so.ingest(
    "generic", data / "features_corpus_a.jsonl", out / "ingested.parquet",
    id_column="clip_id", mos_column="mos", mos_scale=(1.0, 5.0),
)
options = so.AuditOptions(splits=3, bootstrap=10, model="ridge")
audit = so.run_audit([f"a={out / 'joined.jsonl'}"], options)
files = so.write_report(audit, out / "audit")
try:
    import matplotlib
except ImportError:
    blocked = True
else:
    blocked = False
print(json.dumps({
    "joined": joined.rows, "ingested": ingested.rows, "signals": len(audit.corpora[0].signals),
    "blocked": blocked,
    "loaded": sorted(m for m in sys.modules if m.partition(".")[0] in EXTRA_MODULES),
}))
"""

CLI = """
import runpy, sys
sys.argv = ["second-opinion", *sys.argv[1:]]
runpy.run_module("second_opinion", run_name="__main__", alter_sys=True)
"""


def _run_without_extras(script: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + script, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
        timeout=300,
    )


def test_join_ingest_and_audit_run_without_any_extra(tmp_path: Path) -> None:
    result = _run_without_extras(LIBRARY, SCAFFOLD, tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary == {"joined": 12, "ingested": 12, "signals": 4, "blocked": True, "loaded": []}
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == [
        "audit.html",
        "audit.json",
        "audit.md",
    ]
    page = (tmp_path / "audit" / "audit.html").read_text(encoding="utf-8")
    assert "<img" not in page
    assert (
        "Plot not drawn (MOS vs signals, a): matplotlib is not installed "
        "(pip install &#x27;second-opinion[plots]&#x27;)"
    ) in page
    assert not list(tmp_path.rglob("*.png"))


def test_the_cli_names_the_extra_a_feature_needs(tmp_path: Path) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    result = _run_without_extras(
        CLI, "batch", scaffold.manifest, "--out-dir", scaffold.out, "--executor", "ray"
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "error: --executor ray needs the optional dependency 'ray', which is not installed; "
        "install it with: pip install 'second-opinion[ray]'\n"
    )
    assert not scaffold.out.exists()
    result = _run_without_extras(CLI, "batch", scaffold.manifest, "--out-dir", scaffold.out)
    assert result.returncode == 0, result.stderr
    assert (scaffold.out / "corpus-a.jsonl").is_file()
    assert (scaffold.out / "corpus-b.csv").is_file()
