"""The hand-written baseline: the same join as ``second-opinion join``, as plain DuckDB SQL.

It assumes what the generated data guarantees (unique, non-empty keys, finite scores, no key
normalisation) and so skips every check the tool makes; it computes only the output table (base
rows in base order, left-joined with the per-clip or pooled sidecar columns, named as the tool
names them) and the matched count of each sidecar.
"""

from __future__ import annotations

from pathlib import Path

from _corpus import KEY, POOL, SCORES

_POOL_SQL = {"mean": "avg({})", "p5": "quantile_cont({}, 0.05)", "std": "stddev_samp({})"}


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet({_literal(path)})"
    return f"read_json({_literal(path)}, format='newline_delimited')"


def _outputs(scorer: str, *, per_frame: bool) -> list[tuple[str, str]]:
    """(output column, expression over the sidecar) pairs, in the tool's column order."""
    if not per_frame:
        return [(f"so_{scorer}_{c}", c) for c in SCORES]
    pooled = [
        (f"so_{scorer}_{c}_{stat}", _POOL_SQL[stat].format(c)) for c in SCORES for stat in POOL
    ]
    return [*pooled, (f"so_{scorer}_n_frames", "count(*)")]


def hand_statements(
    base: Path, sidecars: dict[str, Path], output: Path, *, per_frame: bool
) -> tuple[list[str], str]:
    """The statements writing ``output``, and the query returning the matched counts."""
    statements = [
        "SET enable_progress_bar = false",  # python -c counts as interactive: no bar on stdout
        f"CREATE TEMP TABLE base AS SELECT * FROM {_reader(base)}",
    ]
    selects, joins, matched = ["b.*"], [], []
    for scorer, path in sidecars.items():
        outputs = _outputs(scorer, per_frame=per_frame)
        columns = ", ".join(f"{expr} AS {name}" for name, expr in outputs)
        group = f" GROUP BY {KEY}" if per_frame else ""
        table = f"side_{scorer}"
        statements.append(
            f"CREATE TEMP TABLE {table} AS SELECT {KEY}, {columns} FROM {_reader(path)}{group}"
        )
        selects.extend(f"{table}.{name}" for name, _ in outputs)
        joins.append(f"LEFT JOIN {table} ON {table}.{KEY} = b.{KEY}")
        matched.append(
            f"(SELECT count(*) FROM base b SEMI JOIN {table} ON {table}.{KEY} = b.{KEY})"
        )
    statements.append(
        f"COPY (SELECT {', '.join(selects)} FROM base b {' '.join(joins)} ORDER BY b.rowid) "
        f"TO {_literal(output)} (FORMAT parquet, COMPRESSION zstd)"
    )
    return statements, f"SELECT {', '.join(matched)}"


def hand_script(base: Path, sidecars: dict[str, Path], output: Path, *, per_frame: bool) -> str:
    """A ``python -c`` program running the statements and printing the matched counts as JSON."""
    statements, matched = hand_statements(base, sidecars, output, per_frame=per_frame)
    return (
        "import json, duckdb\n"
        "con = duckdb.connect()\n"
        f"for statement in {statements!r}:\n"
        "    con.execute(statement)\n"
        f"counts = con.execute({matched!r}).fetchone()\n"
        f"print(json.dumps(dict(zip({list(sidecars)!r}, counts))))\n"
    )
