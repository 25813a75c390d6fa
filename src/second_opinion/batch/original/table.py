"""Running one table of an original manifest: the join, the original's policies and counts, the
output where the manifest names it, its provenance record, and the audit JSON.

The join always runs with ``on_missing: mark`` (one output row per feature row), so the counts
are the original's — taken before any row is dropped — and then ``missing_policy`` applies:
``fail`` writes nothing and fails the table (``missing second-opinion scores: fork-nr=2``),
``drop`` removes every row some competitor has no score for. Columns the feature table already
has under the names the table would write are refused unless ``overwrite``; then they are
replaced (and move to the end, with the other new columns).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from second_opinion.batch.original.load import OriginalTable
from second_opinion.batch.original.reports import (
    Invocation,
    Itself,
    run_provenance,
    write_json,
    write_text,
)
from second_opinion.batch.original.translate import SUFFIXES, table_spec
from second_opinion.batch.original.writing import write_table
from second_opinion.errors import PolicyError, SchemaError
from second_opinion.hashing import sha256_file
from second_opinion.join.coverage import Coverage
from second_opinion.join.run import JoinResult, join
from second_opinion.join.spec import JoinSpec, build_join_spec, scorer_slug
from second_opinion.join.spelling import original_spelling
from second_opinion.provenance import (
    SCHEMA,
    environment,
    fingerprint,
    provenance_path,
    record_text,
    spec_digest,
    tool_info,
    utc_now,
)
from second_opinion.tables.formats import Engine
from second_opinion.validation import revalidated

if TYPE_CHECKING:
    import pyarrow as pa


def _candidates(columns: tuple[str, ...], prefix: str) -> list[str]:
    """Base columns named like the table's output columns (``<prefix>_<slug>_score`` …)."""
    pattern = re.compile(rf"^{re.escape(prefix)}_[a-z0-9_]+_(?:{'|'.join(SUFFIXES)})$")
    return [c for c in columns if pattern.match(c)]


def _joined(
    table: OriginalTable, spec: JoinSpec, engine: Engine | None
) -> tuple[pa.Table, JoinResult]:
    """The joined table (one row per feature row) and the join's result (coverage, warnings);
    base columns the join would write are refused, or, with ``overwrite``, replaced."""
    spelling = original_spelling(table.index)
    base = join(revalidated(spec, build_join_spec, sidecars=()), engine=engine).table
    candidates = _candidates(tuple(base.column_names), table.options.prefix)
    if not candidates:
        result = join(spec, engine=engine, spelling=spelling)
        return result.table, result
    import pyarrow.parquet as pq  # noqa: PLC0415 - only when the base has such columns

    with tempfile.TemporaryDirectory(prefix="second-opinion-original-") as scratch:
        projected = Path(scratch) / "features.parquet"
        pq.write_table(base.drop_columns(candidates), projected)
        projected_spec = revalidated(spec, build_join_spec, features=projected)
        result = join(projected_spec, engine=engine, spelling=spelling)
    kept = [c for c in base.column_names if c not in candidates]
    new = [c for c in result.table.column_names if c not in kept]
    clash = [c for c in new if c in candidates]
    if clash and not table.options.overwrite:
        msg = (
            f"{table.features}: refusing to overwrite existing second-opinion columns: "
            f"{', '.join(clash)}; set overwrite: true to replace them"
        )
        raise SchemaError(msg)
    others = [c for c in candidates if c not in clash]
    joined = base.select([*kept, *others])
    for name in new:
        joined = joined.append_column(name, result.table.column(name))
    return joined, result


def _status_column(table: OriginalTable, scorer: str) -> str:
    return f"{table.options.prefix}_{scorer_slug(scorer)}_status"


def _competitors(
    table: OriginalTable, joined: pa.Table, coverage: tuple[Coverage, ...]
) -> dict[str, dict[str, Any]]:
    """The audit's counts per competitor, from the full join (before any row is dropped)."""
    stats = {}
    for report in sorted(coverage, key=lambda c: c.scorer):
        statuses = joined.column(_status_column(table, report.scorer)).to_pylist()
        bad = statuses.count("bad")
        stats[report.scorer] = {
            "competitor": report.scorer,
            "column_prefix": f"{table.options.prefix}_{scorer_slug(report.scorer)}",
            "scores_loaded": report.sidecar_keys,
            "matched_rows": report.matched - bad,
            "missing_rows": report.missing,
            "bad_rows": bad,
        }
    return stats


def _apply_policy(
    table: OriginalTable, joined: pa.Table, competitors: dict[str, dict[str, Any]]
) -> pa.Table:
    policy = table.options.missing_policy
    if policy == "fail":
        missing = [f"{n}={s['missing_rows']}" for n, s in competitors.items() if s["missing_rows"]]
        if missing:
            msg = f"missing second-opinion scores: {', '.join(missing)}"
            raise PolicyError(msg)
    if policy != "drop" or not competitors:
        return joined
    import pyarrow.compute as pc  # noqa: PLC0415 - only for drop

    keep = None
    for name in competitors:
        present = pc.not_equal(joined.column(_status_column(table, name)), "missing")
        keep = present if keep is None else pc.and_(keep, present)
    return joined.filter(keep)


def _record(
    table: OriginalTable,
    spec: JoinSpec,
    output: pa.Table,
    coverage: tuple[Coverage, ...],
    warnings: tuple[str, ...],
) -> dict[str, Any]:
    """The provenance record beside the output (docs/provenance.md)."""
    canonical = spec.model_dump(mode="json")
    digest = spec_digest(canonical)
    inputs: list[dict[str, object]] = [{"role": "features", "path": str(table.features)}]
    inputs += [{"role": "sidecar", "path": str(s.path), "scorer": s.scorer} for s in spec.sidecars]
    for item in inputs:
        path = Path(str(item["path"]))
        item |= {"size": path.stat().st_size, "sha256": sha256_file(path)}
    now = utc_now()
    return {
        "schema": SCHEMA,
        "tool": tool_info(),
        "environment": environment(),
        "run": {"run_id": f"original-{now}", "started": now, "finished": now},
        "job": {"name": table.id, "dialect": "original", "spec": canonical},
        "spec_sha256": digest,
        "fingerprint": fingerprint(
            digest, [str(i["sha256"]) for i in inputs], "".join(table.out.suffixes)
        ),
        "inputs": inputs,
        "output": {
            "path": str(table.out),
            "size": table.out.stat().st_size,
            "sha256": sha256_file(table.out),
            "rows": output.num_rows,
            "columns": list(output.column_names),
        },
        "coverage": [c.to_dict() for c in coverage],
        "warnings": list(warnings),
    }


def materialize_table(
    table: OriginalTable,
    *,
    manifest: Path,
    invocation: Invocation,
    engine: Engine | None = None,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Run ``table``: write its output, provenance record and audit JSON; return the audit and
    the join's warnings (coverage below 100 %, with the key diagnosis's fix)."""
    spec, key = table_spec(table, on_missing="mark")
    joined, result = _joined(table, spec, engine)
    coverage = result.coverage
    competitors = _competitors(table, joined, coverage)
    output = _apply_policy(table, joined, competitors)
    write_table(output, table.out)
    record = _record(table, spec, output, coverage, result.warnings)
    write_text(provenance_path(table.out), record_text(record))
    audit: dict[str, Any] = {
        "feature_table": str(table.features),
        "output": str(table.out),
        "key_column": key,
        "key_normalize": table.options.key_normalize,
        "input_rows": joined.num_rows,
        "output_rows": output.num_rows,
        "missing_policy": table.options.missing_policy,
        "competitors": competitors,
    }
    outputs: dict[str, object] = {"out": table.out}
    if table.audit_json is not None:
        outputs["audit_json"] = Itself(table.audit_json)
    inputs = {
        "manifest": manifest,
        "features": table.features,
        "scores": [s.path for s in table.scores],
    }
    audit["run_provenance"] = run_provenance(invocation, inputs=inputs, outputs=outputs)
    if table.audit_json is not None:
        write_json(table.audit_json, audit)
    return audit, result.warnings
