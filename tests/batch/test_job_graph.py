"""Jobs that feed jobs: saliency jobs in manifests, ordering, cycles, --only, dry runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from second_opinion.batch.dependencies import find_cycle, levels, with_dependencies
from second_opinion.batch.manifest.jobs import SaliencyJob
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.runner import run_batch
from second_opinion.errors import InputError
from second_opinion.provenance import read_record

SCAFFOLD = Path(__file__).resolve().parents[2] / "testdata" / "smoke-saliency-batch"


@pytest.fixture
def scaffold(tmp_path: Path) -> Path:
    folder = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, folder, ignore=shutil.ignore_patterns("expected"))
    return folder


def _edit(folder: Path, change: Any) -> Path:
    path = folder / "batch.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- the graph, as pure functions -------------------------------------------------------------


def test_levels_run_a_job_after_what_it_reads_and_keep_order_within_a_wave() -> None:
    deps = {"a": (), "b": ("a",), "c": (), "d": ("b", "c")}
    assert levels(["a", "b", "c", "d"], deps) == [["a", "c"], ["b"], ["d"]]
    # dependencies outside the selection count as satisfied
    assert levels(["b", "d"], deps) == [["b"], ["d"]]


def test_find_cycle_names_the_loop() -> None:
    assert find_cycle({"a": ("b",), "b": ("c",), "c": ("a",), "d": ()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": (), "b": ("a",)}) is None
    assert find_cycle({"a": ("a",)}) == ["a", "a"]


def test_with_dependencies_is_transitive() -> None:
    deps = {"a": (), "b": ("a",), "c": ("b",), "x": ()}
    assert with_dependencies(["c"], deps) == {"a", "b", "c"}


# --- manifests --------------------------------------------------------------------------------


def test_the_scaffold_loads_saliency_jobs_and_their_dependency(scaffold: Path) -> None:
    manifest = load_manifest(scaffold / "batch.json", out_dir=scaffold / "out")
    model, maps, corpus = manifest.jobs
    assert isinstance(model, SaliencyJob)
    assert isinstance(maps, SaliencyJob)
    assert [role for role, _, _ in model.inputs] == ["clips", "model", "clip", "clip", "clip"]
    assert [(r, c) for r, c, _ in maps.inputs][:3] == [
        ("clips", None),
        ("clip", "clip_8bit"),
        ("map", "clip_8bit"),
    ]
    assert maps.spec.map_path("clip_8bit") == scaffold / "maps" / "clip_8bit.npy"
    assert manifest.dependencies() == {
        "saliency-model": (),
        "saliency-maps": (),
        "corpus": ("saliency-model",),
    }
    # ${output_dir} followed --out-dir
    assert corpus.inputs[1][2] == scaffold / "out" / "saliency-model.jsonl"


def test_a_cycle_is_a_manifest_error(scaffold: Path) -> None:
    def cycle(data: dict[str, Any]) -> None:
        data["jobs"][0] = {
            "name": "loop",
            "features": "${output_dir}/corpus.csv",
            "key": ["clip_id"],
            "sidecars": [{"scorer": "s", "path": "${output_dir}/corpus.csv"}],
            "output": "loop.csv",
        }
        data["jobs"][2]["sidecars"][0]["path"] = "${output_dir}/loop.csv"

    with pytest.raises(InputError) as caught:
        load_manifest(_edit(scaffold, cycle))
    assert (
        "jobs: the jobs form a cycle, each reading the next one's output: loop -> corpus -> loop"
        in caught.value.message
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["jobs"][0].update(sidecars=[{"scorer": "x", "path": "a.csv"}]),
            "jobs[0]: Value error, sidecars belong to join jobs; a saliency job has clips instead",
        ),
        (
            lambda d: d["jobs"][0].pop("model"),
            (
                "jobs[0]: Value error, a saliency job needs model (an ONNX file) or maps "
                "(a pattern), exactly one"
            ),
        ),
        (
            lambda d: d["jobs"][2].update(frame_step=2),
            'jobs[2]: Value error, frame_step belong to saliency jobs; set "kind": "saliency"',
        ),
    ],
)
def test_fields_of_the_other_kind_are_refused(scaffold: Path, change: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_manifest(_edit(scaffold, change))
    assert message.replace("Value error, ", "") in caught.value.message


def test_a_missing_clip_file_is_reported_with_the_job(scaffold: Path) -> None:
    (scaffold / "clip_small.yuv").unlink()
    with pytest.raises(InputError) as caught:
        load_manifest(scaffold / "batch.json")
    assert "jobs[0].clips (clip 'clip_small'): no such file:" in caught.value.message


# --- running ------------------------------------------------------------------------------------


def test_batch_runs_saliency_before_the_join_and_records_clip_inputs(scaffold: Path) -> None:
    out = scaffold / "out"
    result = run_batch(scaffold / "batch.json", out_dir=out)
    assert [(j.name, j.status) for j in result.jobs] == [
        ("saliency-model", "built"),
        ("saliency-maps", "built"),
        ("corpus", "built"),
    ]
    record = read_record(out / "saliency-model.jsonl")
    roles = [(i["role"], i.get("clip_id")) for i in record["inputs"]]
    assert roles == [
        ("clips", None),
        ("model", None),
        ("clip", "clip_8bit"),
        ("clip", "clip_10bit"),
        ("clip", "clip_small"),
    ]
    assert record["saliency"]["skipped"] == []
    assert len(record["saliency"]["model_sha256"]) == 64
    corpus = read_record(out / "corpus.csv")
    assert corpus["coverage"][0]["matched"] == 3

    again = run_batch(scaffold / "batch.json", out_dir=out)
    assert [j.status for j in again.jobs] == ["up-to-date"] * 3

    # a changed clip reruns the saliency job, then the join that reads its output
    clip = scaffold / "clip_8bit.yuv"
    data = bytearray(clip.read_bytes())
    data[100] ^= 0xFF
    clip.write_bytes(bytes(data))
    third = run_batch(scaffold / "batch.json", out_dir=out)
    assert [(j.name, j.status) for j in third.jobs] == [
        ("saliency-model", "rebuilt"),
        ("saliency-maps", "rebuilt"),
        ("corpus", "rebuilt"),
    ]


def test_only_pulls_in_the_jobs_a_job_reads_from(scaffold: Path) -> None:
    result = run_batch(scaffold / "batch.json", out_dir=scaffold / "out", only=["corpus"])
    assert [j.name for j in result.jobs] == ["saliency-model", "corpus"]
    assert [j.status for j in result.jobs] == ["built", "built"]


def test_dry_run_plans_the_join_after_the_saliency_job(scaffold: Path) -> None:
    result = run_batch(scaffold / "batch.json", out_dir=scaffold / "out", dry_run=True)
    assert [(j.name, j.status, j.reason) for j in result.jobs] == [
        ("saliency-model", "planned", "no output"),
        ("saliency-maps", "planned", "no output"),
        ("corpus", "planned", "after job 'saliency-model', whose output it reads"),
    ]
    assert result.jobs[0].rows == 3
    assert not (scaffold / "out" / "saliency-model.jsonl").exists()


def test_a_failed_saliency_job_skips_the_join_that_reads_it(scaffold: Path) -> None:
    (scaffold / "clip_small.yuv").write_bytes(b"\x00" * 100)  # not a whole number of frames
    result = run_batch(scaffold / "batch.json", out_dir=scaffold / "out")
    statuses = {j.name: (j.status, j.reason) for j in result.jobs}
    assert statuses["saliency-model"][0] == "failed"
    assert statuses["corpus"] == (
        "skipped",
        "input from job 'saliency-model' is not ready (failed)",
    )
    assert "clip 'clip_small'" in (result.jobs[0].error or "")
    assert not (scaffold / "out" / "corpus.csv").exists()


def test_clips_a_saliency_job_skips_are_in_its_result_notes_and_its_provenance(
    scaffold: Path,
) -> None:
    (scaffold / "clip_small.yuv").write_bytes(b"\x00" * 100)  # not a whole number of frames

    def skip_bad_clips(data: dict[str, Any]) -> None:
        data["jobs"][0]["on_bad_clip"] = "skip"

    result = run_batch(_edit(scaffold, skip_bad_clips), out_dir=scaffold / "out")

    job = result.jobs[0]
    assert (job.name, job.status, job.rows) == ("saliency-model", "built", 2)
    assert len(job.notes) == 1
    assert job.notes[0].startswith("skipped clip 'clip_small': ")
    assert "clip_small" in job.notes[0]
    record = read_record(scaffold / "out" / "saliency-model.jsonl")
    assert [s["clip_id"] for s in record["saliency"]["skipped"]] == ["clip_small"]
    assert result.to_dict()["jobs"][0]["notes"] == job.notes
