"""README's "From Python / in a notebook" section: its code runs as shown and prints what the
README says it prints; the files it says it writes are there and say what it says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from second_opinion.provenance import read_record

ROOT = Path(__file__).resolve().parents[1]


def _section() -> tuple[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- notebook:begin -->")[1].split("<!-- notebook:end -->")[0]
    code = re.search(r"```python\n(.*?)```", block, re.DOTALL)
    printed = re.search(r"```text\n(.*?)```", block, re.DOTALL)
    assert code is not None
    assert printed is not None
    return code.group(1), printed.group(1)


def test_the_notebook_section_prints_what_the_readme_says(tmp_path: Path) -> None:
    code, printed = _section()
    assert code.count('"/tmp/') == 2
    # As a notebook cell runs it: no __main__ file (the audit's workers start with spawn).
    done = subprocess.run(
        [sys.executable, "-c", code.replace('"/tmp/', f'"{tmp_path}/')],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == printed
    audit = json.loads((tmp_path / "second-opinion-notebook" / "audit.json").read_text())
    corpus = audit["corpora"]["corpus-a"]
    assert (corpus["source"], corpus["path"]) == ("memory", None)
    assert len(corpus["sha256"]) == 64
    record = read_record(tmp_path / "corpus-a.parquet")
    assert [(i["role"], i["source"], "path" in i) for i in record["inputs"]] == [
        ("features", "memory", False),
        ("sidecar", "memory", False),
    ]
    assert record["job"]["name"] == "corpus-a"
