"""Reading a VMAF dataset file (preset ``netflix-public``) as the ingest's source.

The file is read by :mod:`~second_opinion.ingest.netflix`; its entries are loaded through Arrow.
"""

from __future__ import annotations

from typing import Any

import duckdb

from second_opinion.ingest.dataset_file import read_dataset
from second_opinion.ingest.errors import MissingMosError
from second_opinion.ingest.netflix import column_values, dataset_rows
from second_opinion.ingest.options import IngestOptions
from second_opinion.ingest.report import EXAMPLES, DroppedRow
from second_opinion.ingest.source import Source
from second_opinion.tables.memory import file_of


def load_dataset(con: duckdb.DuckDBPyConnection, options: IngestOptions) -> Source:
    """Load the entries of a VMAF dataset file into ``so_src``."""
    import pyarrow as pa  # noqa: PLC0415 - only VMAF dataset files need Arrow

    rows = dataset_rows(read_dataset(file_of(options.metadata)))
    source = Source(
        path=options.metadata,
        id_column="path",
        mos_column=rows.score_field,
        kind="mos",
        scale=options.mos_scale or rows.scale,
        locate=rows.locate,
        has_std=rows.mos_std is not None,
        has_n=rows.n_ratings is not None,
    )
    missing = [i for i, s in enumerate(rows.scores) if s is None]
    if missing:
        examples = [DroppedRow(rows.locate(i), rows.problems[i] or "no score") for i in missing]
        if not options.drop_missing_mos:
            first = examples[0]
            msg = (
                f"{source.path} {first.where}: {first.reason}; fix the entry, or pass "
                f"--drop-missing-mos to drop entries without a usable score "
                f"({len(missing)} of {len(rows.scores)} entries lack one)"
            )
            raise MissingMosError(msg)
        if len(missing) == len(rows.scores):
            msg = (
                f"{source.path}: no entry of dis_videos has a usable {rows.score_field!r} "
                f"(all {len(missing)} would be dropped); nothing to write"
            )
            raise MissingMosError(msg)
        source.dropped = len(missing)
        source.dropped_rows = tuple(examples[:EXAMPLES])
    keep = [i for i, s in enumerate(rows.scores) if s is not None]
    arrays: dict[str, Any] = {
        "__i": pa.array(keep, pa.int64()),
        "__id": pa.array([rows.ids[i] for i in keep], pa.string()),
        "__score": pa.array([rows.scores[i] for i in keep], pa.float64()),
        "__std": pa.array(
            [rows.mos_std[i] for i in keep] if rows.mos_std else [None] * len(keep),
            pa.float64(),
        ),
        "__n": pa.array(
            [rows.n_ratings[i] for i in keep] if rows.n_ratings else [None] * len(keep),
            pa.int64(),
        ),
    }
    arrow_types = {
        "string": pa.string(),
        "bool": pa.bool_(),
        "int64": pa.int64(),
        "float64": pa.float64(),
    }
    for index, (name, values) in enumerate(rows.others.items()):
        type_name, typed = column_values([values[i] for i in keep])
        arrays[f"o{index}"] = pa.array(typed, arrow_types[type_name])
        source.others.append((name, f"o{index}"))
    con.register("so_arrow", pa.table(arrays))
    con.execute("CREATE TEMP TABLE so_src AS SELECT * FROM so_arrow ORDER BY __i")
    con.unregister("so_arrow")
    return source
