"""Writes that hold (issue 15, ADR 0018): a failed job leaves the previous output and record as
they were; every write stays inside output_dir at the moment it is made; a full disk, a symlink
loop or a stray staging file is reported or cleaned, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from second_opinion.provenance import provenance_path
from tests._scaffold import Scaffold, by_name, outcome
from tests.batch.test_faults import change_a_score


def _outputs(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the run summaries and the batch's state, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in ("runs", ".second-opinion")
    }


# --- 4. a record that cannot be put in place --------------------------------------------------


def test_a_directory_at_the_record_path_fails_the_job_and_keeps_the_previous_output(
    ran: Scaffold,
) -> None:
    output = ran.output("corpus-b")
    record = provenance_path(output)
    previous = output.read_bytes()
    record.unlink()
    record.mkdir()
    (record / "note.txt").write_text("kept", encoding="utf-8")
    change_a_score(ran.input("features_corpus_b.csv"))  # so that the new output differs
    before = _outputs(ran.out)

    result = ran.run(only=["corpus-b"])

    reason = "provenance unreadable (IsADirectoryError)"
    assert outcome(result) == {"corpus-b": ("failed", reason)}
    assert by_name(result)["corpus-b"].error == (
        f"{record}: is a folder, where the job's provenance record goes; "
        "move it away or name another output"
    )
    assert output.read_bytes() == previous
    assert _outputs(ran.out) == before
    shutil.rmtree(record)
    assert outcome(ran.run(only=["corpus-b"])) == {"corpus-b": ("done", "no provenance")}
