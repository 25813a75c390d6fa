"""Write the input tables of testdata/smoke-second-opinion-batch (fixed seed, idempotent).

The expected outputs in ``expected/`` are not written here: ``second-opinion smoke --update``
would only echo the code. They were produced by the tool once and are checked independently
against the plain-Python reference joiner in tests/batch/test_smoke.py.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "testdata" / "smoke-second-opinion-batch"


def main() -> None:
    rng = random.Random(20261126)
    HERE.mkdir(parents=True, exist_ok=True)

    # corpus A: JSONL, string ids; NIQE scores keyed by upper-case file paths.
    clips_a = [f"a{i:03d}" for i in range(1, 13)]
    with (HERE / "features_corpus_a.jsonl").open("w", encoding="utf-8") as handle:
        for clip in clips_a:
            row = {
                "clip_id": clip,
                "mos": round(rng.uniform(1.0, 5.0), 3),
                "vmaf_adm2": round(rng.uniform(0.6, 1.0), 4),
                "vmaf_vif": round(rng.uniform(0.3, 1.0), 4),
                "vmaf_motion2": round(rng.uniform(0.0, 20.0), 3),
            }
            handle.write(json.dumps(row) + "\n")
    scored = [c for c in clips_a if c != "a007"] + ["a099"]
    rng.shuffle(scored)
    with (HERE / "scores_a_niqe.jsonl").open("w", encoding="utf-8") as handle:
        for clip in scored:
            row = {
                "video": f"/videos/corpus_a/{clip.upper()}.mp4",
                "niqe": round(rng.uniform(2.5, 9.0), 3),
            }
            handle.write(json.dumps(row) + "\n")

    # corpus B: CSV, integer ids; DOVER scores per frame, one NaN frame, one clip with no frames.
    clips_b = [str(4000 + i) for i in range(1, 11)]
    with (HERE / "features_corpus_b.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clip_id", "mos", "adm2", "vif", "motion2"])
        for clip in clips_b:
            writer.writerow(
                [
                    clip,
                    round(rng.uniform(0.0, 100.0), 2),
                    round(rng.uniform(0.6, 1.0), 4),
                    round(rng.uniform(0.3, 1.0), 4),
                    round(rng.uniform(0.0, 20.0), 3),
                ]
            )
    with (HERE / "scores_b_dover_frames.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clip_id", "frame", "technical", "aesthetic"])
        for clip in [*clips_b[:-2], "4999"]:
            for frame in range(rng.randint(3, 6)):
                technical = (
                    "nan" if (clip, frame) == ("4003", 1) else round(rng.uniform(0.1, 0.9), 4)
                )
                writer.writerow([clip, frame, technical, round(rng.uniform(0.2, 0.8), 4)])


if __name__ == "__main__":
    main()
