"""run_saliency end to end: the spec, the clips table, bad clips, output, report, threads."""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from second_opinion.errors import InputError, UsageError
from second_opinion.hashing import sha256_file
from second_opinion.saliency.features import FEATURES
from second_opinion.saliency.run import SkippedClip, run_saliency
from second_opinion.saliency.spec import SaliencySpec, build_saliency_spec
from second_opinion.saliency.yuv import BadClipError
from tests._saliency import SMOKE, clip_row, model_file, noise_clip, write_clips
from tests._tables import read_rows


@pytest.fixture
def corpus(tmp_path):
    """Three 16×12 clips (8-bit, 10-bit, 8-bit with n_frames) and a fixed-size model."""
    noise_clip(tmp_path / "a.yuv", 16, 12, 5, seed=1)
    noise_clip(tmp_path / "b.yuv", 16, 12, 4, seed=2, pix_fmt="yuv420p10le")
    noise_clip(tmp_path / "c.yuv", 16, 12, 6, seed=3)
    rows = [
        clip_row("a", "a.yuv"),
        clip_row("b", "b.yuv", pix_fmt="yuv420p10le"),
        clip_row("c", "c.yuv", n_frames=3),
    ]
    write_clips(tmp_path / "clips.jsonl", rows)
    model_file(tmp_path / "model.onnx", size=(8, 8))
    return tmp_path


def _spec(folder: Path, **fields) -> SaliencySpec:
    fields.setdefault("model", folder / "model.onnx")
    return SaliencySpec(clips=folder / "clips.jsonl", **fields)


def _save_maps(folder: Path, spec: SaliencySpec, clip_id: str, frames: int) -> np.ndarray:
    """Random maps for every frame of a clip, at ``spec``'s map path."""
    maps = np.random.default_rng(len(clip_id)).random((frames, 12, 16))
    path = spec.map_path(clip_id)
    path.parent.mkdir(exist_ok=True)
    np.save(path, maps)
    return maps


# --- the spec -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({}, "give exactly one of model and maps .neither given."),
        ({"model": "m.onnx", "maps": "{clip_id}.npy"}, r"exactly one .* \(both given\)"),
        ({"maps": "maps/x.npy"}, r"maps: maps pattern 'maps/x.npy' has no \{clip_id\}"),
        ({"maps": "{clip_id}/{frame}.npy"}, r"has \{frame\}; only \{clip_id\} is filled in"),
        ({"maps": "{clip_id}.npz"}, "does not end in .npy"),
        ({"model": "m.onnx", "frame_step": 0}, "frame_step: Input should be greater than or"),
        ({"model": "m.onnx", "block": "16"}, "block: Input should be a valid integer"),
        ({"model": "m.onnx", "on_bad_clip": "drop"}, "on_bad_clip: Input should be 'error' or"),
        (
            {"model": "m.onnx", "frame_stp": 2},
            "frame_stp: unknown field; did you mean 'frame_step'",
        ),
    ],
)
def test_invalid_specs(fields, match) -> None:
    with pytest.raises(UsageError, match=match):
        build_saliency_spec(clips="clips.jsonl", **fields)


def test_map_paths_are_relative_to_the_clips_table() -> None:
    spec = SaliencySpec(clips=Path("data/clips.csv"), maps="maps/{clip_id}.npy")
    assert spec.map_path("a/1") == Path("data/maps/a/1.npy")
    absolute = SaliencySpec(clips=Path("data/clips.csv"), maps="/srv/{clip_id}.npy")
    assert absolute.map_path("x") == Path("/srv/x.npy")
    with pytest.raises(ValueError, match="no map files"):
        SaliencySpec(clips=Path("c.csv"), model=Path("m.onnx")).map_path("x")


@pytest.mark.parametrize(
    ("maps", "clip_id", "escape"),
    [
        ("maps/{clip_id}.npy", "../../etc/x", "has a '..' part"),
        ("maps/{clip_id}.npy", "a/../../x", "has a '..' part"),
        ("maps/{clip_id}.npy", "..\\x", "has a '..' part"),
        ("/srv/{clip_id}.npy", "../x", "has a '..' part"),
        ("{clip_id}.npy", "/etc/x", "is an absolute path"),
    ],
)
def test_a_clip_id_cannot_take_its_map_out_of_the_maps_folder(
    maps: str, clip_id: str, escape: str
) -> None:
    spec = SaliencySpec(clips=Path("data/clips.csv"), maps=maps)
    with pytest.raises(BadClipError) as caught:
        spec.map_path(clip_id)
    assert caught.value.message == (
        f"clip {clip_id!r}: its map file would be {Path(maps.replace('{clip_id}', clip_id))}, "
        f"outside the folder of the maps pattern {maps!r}, as the clip id {escape}; a clip id in "
        "a map path may name subfolders ('a/1') but hold no '..' part and not start with '/': "
        "rename the clip"
    )


def test_a_clip_whose_map_would_be_outside_the_maps_folder_is_a_bad_clip(corpus) -> None:
    (corpus / "maps").mkdir()
    np.save(corpus / "x.npy", np.zeros((5, 12, 16)))  # what '../x' would read
    write_clips(corpus / "clips.jsonl", [clip_row("../x", "a.yuv")])
    spec = _spec(corpus, model=None, maps="maps/{clip_id}.npy", on_bad_clip="skip")
    report = run_saliency(spec, corpus / "out.jsonl")
    assert report.rows == 0
    assert [s.clip_id for s in report.skipped] == ["../x"]
    assert report.skipped[0].reason.startswith("clip '../x': its map file would be maps/../x.npy")


def test_spec_defaults_and_frozen() -> None:
    spec = SaliencySpec(clips=Path("c.csv"), model=Path("m.onnx"))
    assert (spec.frame_step, spec.block, spec.on_bad_clip, spec.jobs) == (1, 16, "error", 1)
    with pytest.raises(ValueError, match="frozen"):
        spec.jobs = 2


# --- the clips table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"width": "wide"}, r"clips.jsonl line 2: width is 'wide'; it must be a positive integer"),
        ({"width": 16.5}, r"line 2: width is '16.5'; it must be a positive integer"),
        ({"height": 0}, r"line 2: height is '0'; it must be a positive integer"),
        ({"n_frames": -1}, r"line 2: n_frames is '-1'; it must be a positive integer"),
        ({"pix_fmt": "yuv420p10"}, r"line 2: pix_fmt is 'yuv420p10'; did you mean 'yuv420p10le'"),
        ({"pix_fmt": "nv12"}, r"pix_fmt is 'nv12'; use one of \('yuv420p', 'yuv420p10le'\)"),
        ({"clip_id": ""}, r"line 2: clip_id is empty; give every clip an id"),
        ({"path": None}, r"line 2: path is empty; give its raw YUV file"),
        ({"clip_id": "a"}, r"line 2: clip_id 'a' repeats line 1; give each clip its own"),
    ],
)
def test_bad_rows_name_the_line_and_value(tmp_path, row, match) -> None:
    write_clips(tmp_path / "clips.jsonl", [clip_row("a", "a.yuv"), clip_row("b", "b.yuv") | row])
    with pytest.raises(InputError, match=match) as caught:
        run_saliency(_spec(tmp_path), tmp_path / "out.jsonl")
    assert not isinstance(caught.value, BadClipError)
    assert not (tmp_path / "out.jsonl").exists()


def test_missing_columns_and_empty_tables(tmp_path) -> None:
    write_clips(tmp_path / "clips.csv", [{"clip_id": "a", "path": "a.yuv", "width": 16}])
    with pytest.raises(
        InputError,
        match=r"clips.csv: column 'height' not found \(columns: "
        r"clip_id, path, width\); the clips table needs",
    ):
        run_saliency(SaliencySpec(clips=tmp_path / "clips.csv", model=Path("m")), "o.csv")
    (tmp_path / "clips.csv").write_text("clip_id,path,width,height,pix_fmt\n", encoding="utf-8")
    with pytest.raises(InputError, match="the clips table has no rows"):
        run_saliency(SaliencySpec(clips=tmp_path / "clips.csv", model=Path("m")), "o.csv")


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl.gz"])
def test_clips_tables_in_every_format(corpus, suffix) -> None:
    # every row has n_frames, empty where the clip uses all its frames
    rows = [r | {"n_frames": r.get("n_frames")} for r in read_rows_jsonl(corpus / "clips.jsonl")]
    write_clips(corpus / f"clips{suffix}", rows)
    spec = SaliencySpec(clips=corpus / f"clips{suffix}", model=corpus / "model.onnx")
    run_saliency(spec, corpus / "a.jsonl")
    run_saliency(_spec(corpus), corpus / "b.jsonl")
    assert (corpus / "a.jsonl").read_bytes() == (corpus / "b.jsonl").read_bytes()


def read_rows_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- results ------------------------------------------------------------------------------------


def test_output_rows_columns_and_report(corpus) -> None:
    calls = []
    report = run_saliency(
        _spec(corpus, frame_step=2), corpus / "out.jsonl", on_progress=lambda *a: calls.append(a)
    )
    rows = read_rows(corpus / "out.jsonl")
    assert [list(r) for r in rows] == [["clip_id", *FEATURES]] * 3
    assert [(r["clip_id"], r["n_frames"]) for r in rows] == [("a", 3), ("b", 2), ("c", 2)]
    assert report.rows == 3
    assert report.columns == ("clip_id", *FEATURES)
    assert report.skipped == ()
    assert report.model_sha256 == sha256_file(corpus / "model.onnx")
    assert report.seconds >= 0
    assert report.inputs == (
        corpus / "clips.jsonl",
        corpus / "model.onnx",
        corpus / "a.yuv",
        corpus / "b.yuv",
        corpus / "c.yuv",
    )
    assert calls == [(1, 3, "a"), (2, 3, "b"), (3, 3, "c")]
    assert list(report.to_dict()) == [
        "output",
        "rows",
        "columns",
        "skipped",
        "seconds",
        "model_sha256",
        "inputs",
    ]
    json.dumps(report.to_dict())


def test_one_sampled_frame_gives_null_temporal_change_in_jsonl(corpus) -> None:
    run_saliency(_spec(corpus, frame_step=10), corpus / "out.jsonl")
    rows = read_rows(corpus / "out.jsonl")
    assert [r["sal_temporal_change"] for r in rows] == [None] * 3
    run_saliency(_spec(corpus, frame_step=10), corpus / "out.parquet")
    assert all(math.isnan(r["sal_temporal_change"]) for r in read_rows(corpus / "out.parquet"))


@pytest.mark.parametrize("step", [1, 2, 4])
def test_threads_give_the_same_bytes(corpus, step) -> None:
    run_saliency(_spec(corpus, frame_step=step), corpus / "one.csv")
    run_saliency(_spec(corpus, frame_step=step, jobs=3), corpus / "three.csv")
    assert (corpus / "one.csv").read_bytes() == (corpus / "three.csv").read_bytes()


def test_maps_path_for_every_frame_or_for_sampled_frames(corpus) -> None:
    spec = _spec(corpus, model=None, maps="maps/{clip_id}.npy", frame_step=2)
    full = {c: _save_maps(corpus, spec, c, n) for c, n in (("a", 5), ("b", 4), ("c", 3))}
    report = run_saliency(spec, corpus / "full.jsonl")
    assert report.model_sha256 is None
    assert corpus / "maps" / "b.npy" in report.inputs
    for clip_id, maps in full.items():  # the same maps, already sampled
        np.save(spec.map_path(clip_id), maps[::2])
    run_saliency(spec, corpus / "sampled.jsonl")
    assert (corpus / "full.jsonl").read_bytes() == (corpus / "sampled.jsonl").read_bytes()
    rows = read_rows(corpus / "full.jsonl")
    assert [r["n_frames"] for r in rows] == [3, 2, 2]


def test_integer_maps_are_normalised(corpus) -> None:
    spec = _spec(corpus, model=None, maps="{clip_id}.npy")
    floats = {}
    for clip_id, n in (("a", 5), ("b", 4), ("c", 3)):
        floats[clip_id] = _save_maps(corpus, spec, clip_id, n)
    run_saliency(spec, corpus / "float.jsonl")
    for clip_id, maps in floats.items():
        np.save(spec.map_path(clip_id), np.rint(maps * 200 + 10).astype(np.uint8))
    uint8 = read_rows(run_saliency(spec, corpus / "uint8.jsonl").output)
    for a, b in zip(read_rows(corpus / "float.jsonl"), uint8, strict=True):
        assert a["sal_mean"] == pytest.approx(b["sal_mean"], abs=0.01)


# --- bad clips ----------------------------------------------------------------------------------


def _break(folder: Path, problem: str) -> str:
    """Make clip 'b' bad; return the start of the message expected."""
    if problem == "missing":
        (folder / "b.yuv").unlink()
        return r"clip 'b' \(clips.jsonl\): .*b.yuv: no such file"
    if problem == "size":
        (folder / "b.yuv").write_bytes(b"\0" * 1001)
        return r"clip 'b' \(clips.jsonl\): .*b.yuv has 1001 bytes, not a whole number"
    if problem == "short":
        rows = [clip_row("a", "a.yuv"), clip_row("b", "b.yuv", n_frames=9), clip_row("c", "c.yuv")]
        write_clips(folder / "clips.jsonl", rows)
        return r"clip 'b' \(clips.jsonl\): n_frames is 9 but"
    raise AssertionError(problem)


@pytest.mark.parametrize("problem", ["missing", "size", "short"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_bad_clip_fails_the_job_and_writes_nothing(corpus, problem, jobs) -> None:
    message = _break(corpus, problem)
    (corpus / "out.jsonl").write_text("previous\n", encoding="utf-8")
    with pytest.raises(BadClipError, match=f"^{message}"):
        run_saliency(_spec(corpus, jobs=jobs), corpus / "out.jsonl")
    assert (corpus / "out.jsonl").read_text(encoding="utf-8") == "previous\n"
    assert not [p for p in corpus.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize("problem", ["missing", "size", "short"])
def test_a_bad_clip_is_skipped_and_reported(corpus, problem) -> None:
    message = _break(corpus, problem)
    report = run_saliency(_spec(corpus, on_bad_clip="skip"), corpus / "out.jsonl")
    assert [r["clip_id"] for r in read_rows(corpus / "out.jsonl")] == ["a", "c"]
    assert report.rows == 2
    ((clip_id, reason),) = report.skipped
    assert clip_id == "b"
    assert re.match(message, reason)
    assert report.skipped == (SkippedClip("b", reason),)
    assert corpus / "b.yuv" not in report.inputs


def test_the_first_bad_clip_in_table_order_is_reported(corpus) -> None:
    (corpus / "a.yuv").write_bytes(b"\0" * 7)
    (corpus / "c.yuv").unlink()
    with pytest.raises(BadClipError, match=r"^clip 'a'"):
        run_saliency(_spec(corpus, jobs=3), corpus / "out.csv")


def test_workers_are_stopped_before_the_error_is_raised(corpus) -> None:
    rows = [clip_row(f"n{i}", "a.yuv") for i in range(12)]
    write_clips(corpus / "clips.jsonl", [clip_row("bad", "missing.yuv"), *rows])
    before = threading.active_count()
    with pytest.raises(BadClipError, match=r"^clip 'bad'"):
        run_saliency(_spec(corpus, jobs=3), corpus / "out.csv")
    assert threading.active_count() == before


@pytest.mark.parametrize(
    ("maps", "match"),
    [
        (np.zeros((5, 12, 15)), r"has shape 5 × 12 × 15; the clip needs T × 12 × 16 with T = 5"),
        (
            np.zeros((4, 12, 16)),
            r"has shape 4 × 12 × 16; .* T = 5 \(every frame\) or 3 \(frame_step 2",
        ),
        (np.zeros((12, 16)), r"has shape 12 × 16;"),
        (np.array(["x"] * 960).reshape(5, 12, 16), r"holds <U1 values; save the maps as a numeric"),
        (np.full((5, 12, 16), np.inf), r"has inf in map 0 at \(y=0, x=0\); maps must be finite"),
        (None, r"map file .*a.npy: no such file; compute the maps or fix 'maps'"),
        (b"garbage", r"map file .*a.npy: cannot read as .npy"),
    ],
)
def test_bad_maps(corpus, maps, match) -> None:
    step = 2 if "frame_step 2" in match else 1
    spec = _spec(corpus, model=None, maps="{clip_id}.npy", frame_step=step)
    for clip_id, n in (("b", 4), ("c", 3)):
        np.save(spec.map_path(clip_id), np.zeros((n, 12, 16)))
    if isinstance(maps, bytes):
        (corpus / "a.npy").write_bytes(maps)
    elif maps is not None:
        np.save(corpus / "a.npy", maps)
    with pytest.raises(BadClipError, match=rf"^clip 'a' \(clips.jsonl\): .*{match}"):
        run_saliency(spec, corpus / "out.jsonl")
    skipped = run_saliency(spec.model_copy(update={"on_bad_clip": "skip"}), corpus / "out.jsonl")
    assert [s.clip_id for s in skipped.skipped] == ["a"]


def test_npz_and_pickled_maps_are_refused(corpus) -> None:
    spec = _spec(corpus, model=None, maps="{clip_id}.npy")
    with (corpus / "a.npy").open("wb") as handle:  # a path would get .npz appended
        np.savez(handle, np.zeros((5, 12, 16)))
    with pytest.raises(BadClipError, match=r"a.npy is an .npz archive; save one array"):
        run_saliency(spec, corpus / "out.jsonl")
    np.save(corpus / "a.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadClipError, match=r"a.npy: cannot read as .npy"):
        run_saliency(spec, corpus / "out.jsonl")


def test_every_clip_skipped_writes_an_empty_table(corpus) -> None:
    for name in ("a", "b", "c"):
        (corpus / f"{name}.yuv").unlink()
    report = run_saliency(_spec(corpus, on_bad_clip="skip"), corpus / "out.parquet")
    assert report.rows == 0
    assert [s.clip_id for s in report.skipped] == ["a", "b", "c"]
    assert read_rows(corpus / "out.parquet") == []


def test_a_bad_model_fails_whatever_the_policy(corpus) -> None:
    (corpus / "model.onnx").write_bytes(b"junk")
    with pytest.raises(InputError, match="cannot load as an ONNX model"):
        run_saliency(_spec(corpus, on_bad_clip="skip"), corpus / "out.jsonl")


# --- output -------------------------------------------------------------------------------------


def test_output_must_have_a_table_suffix_and_not_be_an_input(corpus) -> None:
    with pytest.raises(UsageError, match=r"out.txt: cannot write .txt"):
        run_saliency(_spec(corpus), corpus / "out.txt")
    with pytest.raises(UsageError, match="the output is also an input"):
        run_saliency(_spec(corpus), corpus / "clips.jsonl")
    with pytest.raises(UsageError, match=r"the folder .* does not exist"):
        run_saliency(_spec(corpus), corpus / "nowhere" / "out.csv")


def test_the_model_and_maps_paths_agree_on_the_smoke_clips(tmp_path) -> None:
    folder = tmp_path / "smoke"
    shutil.copytree(SMOKE, folder)
    clips = folder / "clips.jsonl"
    for step in (1, 2, 4):
        by_model = run_saliency(
            SaliencySpec(clips=clips, model=folder / "tiny_saliency.onnx", frame_step=step),
            tmp_path / "model.jsonl",
        )
        by_maps = run_saliency(
            SaliencySpec(clips=clips, maps="maps/{clip_id}.npy", frame_step=step, jobs=2),
            tmp_path / "maps.jsonl",
        )
        assert by_model.rows == by_maps.rows == 3
        model_rows, map_rows = (
            read_rows(tmp_path / "model.jsonl"),
            read_rows(tmp_path / "maps.jsonl"),
        )
        for a, b in zip(model_rows, map_rows, strict=True):
            assert a["clip_id"] == b["clip_id"]
            assert a["n_frames"] == b["n_frames"]
            for name in FEATURES[:-1]:
                if a[name] is None:
                    assert b[name] is None
                else:
                    assert a[name] == pytest.approx(b[name], abs=1e-6), (step, a["clip_id"], name)
