"""Seeded synthetic corpora for the audit tests, with structure the tests can rely on.

:func:`corpus_columns` draws one corpus: a latent quality ``z``, ``mos = 3 + 0.8·z + noise``,
and columns correlated with ``z`` at chosen strengths:

* VMAF-like single columns (:data:`VMAF_STRENGTHS`: ``vmaf``, ``vmaf_neg``, ``psnr_y``);
* ``vmaf_copy``: ``vmaf`` plus a tiny jitter, so the pair is redundant (ρ > 0.95);
* ``so_brisque_f01..f05``: a five-column scorer group (three informative, two noise);
* ``so_niqe_score``: one column where lower is better (negatively correlated with MOS);
* NaN sprinkled over every signal column (never over ``mos`` unless asked for).

:func:`gain_columns` draws a corpus whose MOS has two independent parts, one seen by baseline
columns ``base_f1..f2`` and one by a second opinion ``so_extra_f1..f2`` (or, with
``informative=False``, the second opinion is pure noise).

:func:`write_corpus` writes any of these as a table (format from the suffix);
:func:`make_corpus` builds the audit's :class:`Corpus` in memory, without a file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from second_opinion.audit.corpus import Corpus
from tests._tables import write_table

FloatArray = npt.NDArray[np.float64]
Columns = dict[str, FloatArray]

VMAF_STRENGTHS: dict[str, float] = {"vmaf": 0.9, "vmaf_neg": 0.7, "psnr_y": 0.4}
BRISQUE_COLUMNS: tuple[str, ...] = tuple(f"so_brisque_f{i:02d}" for i in range(1, 6))
NIQE_COLUMN = "so_niqe_score"
DUPLICATE_COLUMN = "vmaf_copy"


def _correlated(rng: np.random.Generator, z: FloatArray, strength: float) -> FloatArray:
    """A standardised column whose correlation with ``z`` is about ``strength``."""
    noise = rng.normal(size=z.size)
    return strength * z + math.sqrt(max(0.0, 1.0 - strength**2)) * noise


def _sprinkle(rng: np.random.Generator, values: FloatArray, fraction: float) -> FloatArray:
    out = values.copy()
    if fraction > 0:
        out[rng.random(values.size) < fraction] = np.nan
    return out


def corpus_columns(
    n: int = 60,
    seed: int = 0,
    *,
    strengths: Mapping[str, float] = VMAF_STRENGTHS,
    brisque: float | None = 0.8,
    niqe: float | None = 0.6,
    duplicate: bool = True,
    nan_fraction: float = 0.05,
    nan_mos: int = 0,
) -> Columns:
    """One corpus as column → values (``mos`` first); see the module docstring.

    ``brisque``/``niqe`` set the strength of those scorers (None leaves them out); ``nan_mos``
    rows (the last ones) get no MOS.
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    mos = 3.0 + 0.8 * z + rng.normal(scale=0.15, size=n)
    if nan_mos:
        mos[-nan_mos:] = np.nan
    columns: Columns = {"mos": mos}
    for name, strength in strengths.items():
        columns[name] = 60.0 + 15.0 * _correlated(rng, z, strength)
    if duplicate and "vmaf" in columns:
        columns[DUPLICATE_COLUMN] = columns["vmaf"] + rng.normal(scale=1e-3, size=n)
    if brisque is not None:
        for index, name in enumerate(BRISQUE_COLUMNS):
            strength = brisque if index < 3 else 0.0
            columns[name] = (index + 1.0) * _correlated(rng, z, strength)
    if niqe is not None:
        columns[NIQE_COLUMN] = 5.0 - 1.5 * _correlated(rng, z, niqe)
    for name in list(columns):
        if name != "mos":
            columns[name] = _sprinkle(rng, columns[name], nan_fraction)
    return columns


def gain_columns(
    n: int = 80, seed: int = 0, *, informative: bool = True, nan_fraction: float = 0.0
) -> Columns:
    """MOS = a + b + noise; ``base_f*`` see ``a``, ``so_extra_f*`` see ``b`` (or nothing)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    mos = 3.0 + 0.6 * a + 0.6 * b + rng.normal(scale=0.1, size=n)
    columns: Columns = {
        "mos": mos,
        "base_f1": a + rng.normal(scale=0.2, size=n),
        "base_f2": 2.0 * a + rng.normal(scale=0.4, size=n),
    }
    seen = b if informative else rng.normal(size=n)
    columns["so_extra_f1"] = seen + rng.normal(scale=0.2, size=n)
    columns["so_extra_f2"] = -seen + rng.normal(scale=0.3, size=n)
    for name in list(columns):
        if name != "mos":
            columns[name] = _sprinkle(rng, columns[name], nan_fraction)
    return columns


def table_rows(
    columns: Mapping[str, FloatArray], id_column: str = "clip_id"
) -> list[dict[str, Any]]:
    """Rows for :func:`tests._tables.write_table`: a string id first, NaN as a missing value."""
    n = len(next(iter(columns.values())))
    rows = []
    for i in range(n):
        row: dict[str, Any] = {id_column: f"clip{i:04d}"}
        for name, values in columns.items():
            value = float(values[i])
            row[name] = value if math.isfinite(value) else None
        rows.append(row)
    return rows


def write_corpus(path: Path, columns: Mapping[str, FloatArray]) -> Path:
    """Write ``columns`` (plus ``clip_id``) to ``path``, in the format its suffix names."""
    rows = table_rows(columns)
    return write_table(path, rows, columns=["clip_id", *columns])


def make_corpus(columns: Mapping[str, FloatArray], name: str = "synthetic") -> Corpus:
    """The audit's view of ``columns`` without a file: rows without a finite MOS dropped."""
    mos = np.asarray(columns["mos"], dtype=np.float64)
    keep = np.isfinite(mos)
    return Corpus(
        name=name,
        path=Path(f"{name}.csv"),
        mos_column="mos",
        mos=mos[keep],
        columns={
            c: np.asarray(v, dtype=np.float64)[keep] for c, v in columns.items() if c != "mos"
        },
        rows=int(mos.size),
    )


# --- a real batch output with its provenance record ------------------------------------------

TINY_JOB = "tiny-job"
TINY_ROWS = 12


def run_tiny_batch(folder: Path, output: str = "tiny.csv") -> Path:
    """Run a one-job batch in ``folder`` with :func:`second_opinion.batch.runner.run_batch`.

    The job joins ``features.csv`` (numeric key ``clip``, ``seq``, ``mos``, ``vmaf``, text
    ``label``) with two sidecars: ``fast_vqa`` (columns ``score``, ``aux``; default prefix, higher
    is better) and ``niqe`` (prefix ``nq_``, lower is better). Returns the output table, whose
    ``.provenance.json`` record sits beside it.
    """
    import json  # noqa: PLC0415 - only this helper needs it

    from second_opinion.batch.runner import run_batch  # noqa: PLC0415 - keeps the module light

    folder.mkdir(parents=True, exist_ok=True)
    n = TINY_ROWS
    write_table(
        folder / "features.csv",
        [
            {"clip": 1001 + i, "seq": i, "mos": 1.0 + 0.3 * i, "vmaf": 50 + i, "label": "x"}
            for i in range(n)
        ],
    )
    write_table(
        folder / "fast.jsonl",
        [{"clip": 1001 + i, "score": 0.1 * i, "aux": 1.0 - 0.05 * i} for i in range(n)],
    )
    write_table(folder / "nq.jsonl", [{"clip": 1001 + i, "niqe": 9.0 - 0.2 * i} for i in range(n)])
    manifest = {
        "version": 1,
        "output_dir": "out",
        "defaults": {"key": ["clip"]},
        "jobs": [
            {
                "name": TINY_JOB,
                "features": "features.csv",
                "sidecars": [
                    {"scorer": "fast_vqa", "path": "fast.jsonl", "columns": ["score", "aux"]},
                    {
                        "scorer": "niqe",
                        "path": "nq.jsonl",
                        "prefix": "nq_",
                        "higher_is_better": False,
                    },
                ],
                "output": output,
            }
        ],
    }
    (folder / "batch.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_batch(folder / "batch.json")
    assert result.ok, result
    table = folder / "out" / output
    assert table.is_file()
    assert (folder / "out" / f"{output}.provenance.json").is_file()
    return table
