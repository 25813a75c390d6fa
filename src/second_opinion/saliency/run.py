"""Computing the saliency features of every clip in a clips table and writing them as a table.

Clips run in ``spec.jobs`` threads: onnxruntime, file reads and NumPy's large-array work release the
GIL, one model session serves every thread (no copy of the model per worker), and nothing has
to be pickled. Results are collected in table order, so the output, the first error and the
progress calls do not depend on which thread finishes first.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import duckdb

from second_opinion.errors import UsageError
from second_opinion.hashing import sha256_file
from second_opinion.saliency.clips import Clip, read_clips
from second_opinion.saliency.features import FEATURES, saliency_features
from second_opinion.saliency.maps import MapFile
from second_opinion.saliency.model import SaliencyModel, threads_per_clip
from second_opinion.saliency.spec import SaliencySpec
from second_opinion.saliency.yuv import BadClipError, YuvClip
from second_opinion.tables.formats import same_file
from second_opinion.tables.writing import output_format, write_query

SaliencyProgress = Callable[[int, int, str], None]
"""Called after each clip, in table order: (clips done, clips in the table, clip_id)."""

COLUMNS: tuple[str, ...] = ("clip_id", *FEATURES)
T = TypeVar("T")


class SkippedClip(NamedTuple):
    """A clip ``on_bad_clip='skip'`` left out, and the message it would have failed with."""

    clip_id: str
    reason: str


@dataclass(frozen=True)
class SaliencyReport:
    """What :func:`run_saliency` wrote, what it skipped, and what it read."""

    output: Path
    rows: int
    columns: tuple[str, ...]
    skipped: tuple[SkippedClip, ...]
    seconds: float
    model_sha256: str | None  # the model's SHA-256, or None when maps were precomputed
    inputs: tuple[Path, ...]  # clips table, model or map files, YUV files of the rows written

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with a fixed key order."""
        return {
            "output": str(self.output),
            "rows": self.rows,
            "columns": list(self.columns),
            "skipped": [{"clip_id": s.clip_id, "reason": s.reason} for s in self.skipped],
            "seconds": self.seconds,
            "model_sha256": self.model_sha256,
            "inputs": [str(p) for p in self.inputs],
        }


class _StopRequestedError(Exception):
    """Raised inside a worker when the run is stopping (another clip failed, or Ctrl-C)."""


def run_saliency(
    spec: SaliencySpec, output: str | Path, *, on_progress: SaliencyProgress | None = None
) -> SaliencyReport:
    """Compute the saliency features of every clip of ``spec.clips``; write them to ``output``.

    The output has one row per clip, in table order: ``clip_id`` then :data:`FEATURES`; its
    format comes from its suffix, and it is written atomically (on any failure nothing new is
    left at ``output``). A bad clip raises :class:`BadClipError` (an :class:`InputError`) naming
    it, or with ``on_bad_clip='skip'`` is left out and listed in the report. An invalid clips
    table or model raises :class:`InputError` whatever the policy.
    """
    started = time.perf_counter()
    output = Path(output)
    output_format(output)
    for source in (spec.clips, spec.model):
        if source is not None and same_file(source, output):
            msg = f"{output}: the output is also an input; write to another file"
            raise UsageError(msg)
    clips = read_clips(spec.clips)
    model, model_sha256 = None, None
    if spec.model is not None:
        model = SaliencyModel.load(spec.model, threads=threads_per_clip(spec.jobs))
        model_sha256 = sha256_file(spec.model)
    stop = threading.Event()

    def features(clip: Clip) -> dict[str, Any] | BadClipError:
        try:
            return _clip_features(clip, spec, model, stop)
        except BadClipError as exc:
            return exc

    rows: list[tuple[Clip, dict[str, Any]]] = []
    skipped: list[SkippedClip] = []
    # closing: on an error here the workers are stopped now, not when the traceback is freed
    with contextlib.closing(_ordered(features, clips, spec.jobs, stop)) as results:
        for done, (clip, result) in enumerate(results, start=1):
            if isinstance(result, BadClipError):
                if spec.on_bad_clip == "error":
                    raise result
                skipped.append(SkippedClip(clip.clip_id, result.message))
            else:
                rows.append((clip, result))
            if on_progress is not None:
                on_progress(done, len(clips), clip.clip_id)
    written = _write(rows, output)
    inputs: list[Path] = [spec.clips]
    if spec.model is not None:
        inputs.append(spec.model)
    for clip, _ in rows:
        inputs.append(clip.path)
        if spec.maps is not None:
            inputs.append(spec.map_path(clip.clip_id))
    return SaliencyReport(
        output=output,
        rows=written,
        columns=COLUMNS,
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
        model_sha256=model_sha256,
        inputs=tuple(dict.fromkeys(inputs)),
    )


def _ordered(
    work: Callable[[Clip], T], clips: list[Clip], threads: int, stop: threading.Event
) -> Generator[tuple[Clip, T]]:
    """``work`` on each clip, in ``threads`` threads, results in table order.

    When the consumer stops early (an error, Ctrl-C), ``stop`` is set so running clips end at
    their next frame, and clips not yet started are cancelled.
    """
    if threads == 1 or len(clips) == 1:
        for clip in clips:
            yield clip, work(clip)
        return
    with ThreadPoolExecutor(max_workers=min(threads, len(clips))) as pool:
        futures = [pool.submit(work, clip) for clip in clips]
        try:
            for clip, future in zip(clips, futures, strict=True):
                yield clip, future.result()
        finally:
            stop.set()
            for future in futures:
                future.cancel()


def _until(stop: threading.Event, items: Iterable[T]) -> Iterator[T]:
    for item in items:
        if stop.is_set():
            raise _StopRequestedError
        yield item


def _clip_features(
    clip: Clip, spec: SaliencySpec, model: SaliencyModel | None, stop: threading.Event
) -> dict[str, Any]:
    yuv = YuvClip(clip.path, clip.layout, name=clip.name, n_frames=clip.n_frames)
    if model is not None:
        frames = yuv.frames(spec.frame_step, chroma=model.channels == 3)
        maps = model.maps(_until(stop, frames), name=clip.name)
    else:
        layout = clip.layout
        map_file = MapFile(
            spec.map_path(clip.clip_id),
            name=clip.name,
            frames=yuv.n_frames,
            step=spec.frame_step,
            height=layout.height,
            width=layout.width,
        )
        maps = _until(stop, map_file.maps())
    return saliency_features(maps, block=spec.block)


def _write(rows: list[tuple[Clip, dict[str, Any]]], output: Path) -> int:
    import pyarrow as pa  # noqa: PLC0415 - imported when a table is written, not at start-up

    types = {"clip_id": pa.string(), "n_frames": pa.int64()}
    table = pa.table(
        {
            name: pa.array(
                [clip.clip_id if name == "clip_id" else result[name] for clip, result in rows],
                type=types.get(name, pa.float64()),
            )
            for name in COLUMNS
        }
    )
    con = duckdb.connect()
    try:
        con.register("so_saliency", table)
        return write_query(con, "SELECT * FROM so_saliency", output)
    finally:
        con.close()
