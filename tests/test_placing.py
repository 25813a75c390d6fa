"""The write primitives every batch write goes through (ADR 0018): all-or-nothing renames,
confinement at the moment of writing, staging names, and errors that name the cause."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from second_opinion.errors import InputError
from second_opinion.placing import is_staging_of, put_in_place

ENOSPC = os.strerror(errno.ENOSPC)


def _staged(folder: Path, name: str, text: str) -> Path:
    path = folder / f".{name}.0123456789ab.staging.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_failed_second_rename_puts_the_first_target_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "o.csv").write_text("old output", encoding="utf-8")
    (tmp_path / "o.csv.provenance.json").write_text("old record", encoding="utf-8")
    pairs = [
        (_staged(tmp_path, "o.csv", "new output"), tmp_path / "o.csv", "output"),
        (_staged(tmp_path, "o.rec", "new record"), tmp_path / "o.csv.provenance.json", "record"),
    ]
    real = os.replace
    calls: list[str] = []

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        calls.append(str(dst))
        if str(dst).endswith(".provenance.json"):
            raise OSError(errno.ENOSPC, ENOSPC)
        real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)

    with pytest.raises(InputError) as caught:
        put_in_place(pairs, root=tmp_path)

    assert caught.value.message == (
        f"{tmp_path / 'o.csv.provenance.json'}: cannot write the record "
        f"({ENOSPC}; free some space on that disk and run again)"
    )
    assert (tmp_path / "o.csv").read_text(encoding="utf-8") == "old output"
    assert (tmp_path / "o.csv.provenance.json").read_text(encoding="utf-8") == "old record"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".bak")]


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_target_that_cannot_take_a_file_is_refused_before_anything_moves(
    tmp_path: Path, kind: str
) -> None:
    (tmp_path / "o.csv").write_text("old output", encoding="utf-8")
    record = tmp_path / "o.csv.provenance.json"
    if kind == "folder":
        record.mkdir()
    else:
        os.mkfifo(record)
    staged = _staged(tmp_path, "o.csv", "new output")

    with pytest.raises(InputError) as caught:
        put_in_place(
            [(staged, tmp_path / "o.csv", "output"), (staged, record, "provenance record")],
            root=tmp_path,
        )

    what = "a folder" if kind == "folder" else "a FIFO (named pipe)"
    assert caught.value.message == (
        f"{record}: is {what}, where the job's provenance record goes; "
        "move it away or name another output"
    )
    assert (tmp_path / "o.csv").read_text(encoding="utf-8") == "old output"


_NAMES = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"), min_size=1
).filter(lambda name: name not in (".", ".."))


@given(target=_NAMES, other=_NAMES, token=st.from_regex(r"[0-9a-f]{12}", fullmatch=True))
def test_staging_names_are_recognised_for_their_target_only(
    target: str, other: str, token: str
) -> None:
    made = [
        f".{target}.{token}.tmp",  # write_text_atomic, write_query
        f".{target}.{token}.rows.tmp",  # write_query's .json rows
        f".{target}.{token}.bak",  # put_in_place's backups
        f".{target}.{token}.staging.csv",  # a batch job's staged output
        f".{target}.{token}.staging.csv.provenance.json",  # and its record
        f"..{target}.{token}.staging.csv.provenance.json.{token}.tmp",
    ]
    assert [name for name in made if not is_staging_of(name, target)] == []
    if other != target:
        assert [name for name in made[:4] if is_staging_of(name, other)] == [
            name for name in made[:4] if name.startswith(f".{other}.")
        ]
    assert not is_staging_of(target, target)
    assert not is_staging_of(f".{target}.{token.upper()}x.tmp", target)


# Writes in the batch machinery that do not go through placing, each with its reason.
ALLOWED_WRITES = {
    ("runner.py", "manifest.output_dir.mkdir("): "output_dir itself: the root everything is below",
    ("ray.py", 'check.write_text("", encoding="utf-8")'): "a node's probe proving it can write",
}
_WRITES = re.compile(
    r"\.write_text\(|\.write_bytes\(|\.mkdir\(|\bos\.(?:replace|rename|link|mkdir)\(|"
    r"\.open\([^)]*[\"'][wax+]|(?<!dataclasses)\.replace\((?!str\(|\"|')\w"
)


def test_the_batch_writes_only_through_placing() -> None:
    """Every write of a batch is confined, all-or-nothing and reported (ADR 0018): none bypasses
    ``second_opinion.placing`` (the original-manifest dialects write where their manifests say)."""
    batch = Path(__file__).resolve().parents[1] / "src" / "second_opinion" / "batch"
    found = []
    for path in sorted(batch.rglob("*.py")):
        if path.parent.name in ("original", "original_saliency"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.strip()
            allowed = any(name == path.name and text in code for name, text in ALLOWED_WRITES)
            if _WRITES.search(code) and not allowed:
                found.append(f"{path.relative_to(batch)}:{number}: {code}")
    assert found == []
