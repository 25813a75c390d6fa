"""``second-opinion join``: join sidecars onto one corpus table and write the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from second_opinion.cli.options import (
    MEMORY_LIMIT_HELP,
    TEMP_DIR_HELP,
    engine_of,
    parse_align,
    parse_fraction,
    parse_key_maps,
    parse_sidecars,
    scoped,
    split_list,
)
from second_opinion.cli.render import console, print_coverage, print_json, print_warnings
from second_opinion.errors import PolicyError, UsageError

_SCOPED = "Prefix with SCORER: for one sidecar; without it, applies to all."
_LISTS = ("normalize_keys", "pool", "columns", "derived")


def join_command(
    features: Annotated[
        Path, typer.Option("--features", "-f", metavar="PATH", help="The base (corpus) table.")
    ],
    sidecar: Annotated[
        list[str],
        typer.Option(
            "--sidecar", "-s", metavar="SCORER=PATH", help="A sidecar as SCORER=PATH; repeat."
        ),
    ],
    key: Annotated[
        list[str],
        typer.Option(
            "--key", "-k", metavar="COLUMN", help="A key column of the base table; repeat."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="The table to write: .jsonl, .ndjson, .csv, .tsv (optionally .gz), .parquet.",
        ),
    ],
    key_map: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]SIDE=BASE",
            help=f"The sidecar's key column SIDE is base key BASE. {_SCOPED}",
        ),
    ] = None,
    records: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]KIND",
            help=f"table (default) or wrapper (JSON/JSONL score rows). {_SCOPED}",
        ),
    ] = None,
    key_field: Annotated[
        list[str] | None,
        typer.Option(metavar="[SCORER:]FIELD", help=f"Wrapper rows' key field. {_SCOPED}"),
    ] = None,
    score_field: Annotated[
        list[str] | None,
        typer.Option(metavar="[SCORER:]FIELD", help=f"Wrapper rows' score field. {_SCOPED}"),
    ] = None,
    scorer_column: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]COLUMN",
            help=f"Split the rows by this column's scorer names. {_SCOPED}",
        ),
    ] = None,
    status_column: Annotated[
        list[str] | None,
        typer.Option(metavar="[SCORER:]COLUMN", help=f"A column with each row's status. {_SCOPED}"),
    ] = None,
    no_scorer_fallback: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCORER",
            help="Rows naming no scorer (competitor) are an error, not SCORER's; repeat.",
        ),
    ] = None,
    normalize_keys: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]STEPS", help=f"nfc,strip,auto,basename,stem,lower. {_SCOPED}"
        ),
    ] = None,
    frame_column: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]COLUMN", help=f"Frame column of a per-frame sidecar. {_SCOPED}"
        ),
    ] = None,
    pool: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]STATS",
            help=f"mean,median,min,max,std,p5,p95,harmonic_mean. {_SCOPED}",
        ),
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]COLUMNS", help=f"Score columns to take, comma-separated. {_SCOPED}"
        ),
    ] = None,
    prefix: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCORER:PREFIX",
            help="Use PREFIX instead of so_<scorer>_; {scorer} stands for the scorer's slug.",
        ),
    ] = None,
    on_missing: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]MODE", help=f"null (default), drop, error or mark. {_SCOPED}"
        ),
    ] = None,
    min_coverage: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]FRACTION",
            help=f"Fail (exit 1) below this matched fraction. {_SCOPED}",
        ),
    ] = None,
    on_duplicate: Annotated[
        list[str] | None,
        typer.Option(
            metavar="[SCORER:]MODE", help=f"error (default), first, last or mean. {_SCOPED}"
        ),
    ] = None,
    lower_is_better: Annotated[
        list[str] | None,
        typer.Option(metavar="SCORER", help="A scorer whose scores are better when lower; repeat."),
    ] = None,
    allow_no_match: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCORER",
            help="A sidecar that may match no base key (else that fails the join); repeat.",
        ),
    ] = None,
    derived: Annotated[
        list[str] | None,
        typer.Option(metavar="[SCORER:]KINDS", help=f"zscore,rank,delta:<base column>. {_SCOPED}"),
    ] = None,
    align: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCORER:TABLE:COLUMN",
            help="The sidecar is a score matrix (.mat, .npy, .npz, headerless CSV) whose rows "
            "follow the keys in COLUMN of TABLE.",
        ),
    ] = None,
    variable: Annotated[
        list[str] | None,
        typer.Option(metavar="SCORER:NAME", help="The matrix variable in a .mat/.npz file."),
    ] = None,
    memory_limit: Annotated[str | None, typer.Option(help=MEMORY_LIMIT_HELP)] = None,
    temp_dir: Annotated[Path | None, typer.Option(help=TEMP_DIR_HELP)] = None,
    provenance: Annotated[
        bool,
        typer.Option(
            "--provenance",
            help="Also write OUTPUT.provenance.json, as batch does (every input's and the "
            "output's SHA-256, versions, timings, coverage); both put in place together.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Join scorer sidecars onto a corpus table, print coverage, write the result atomically.

    Exit status: 0 written; 1 a policy failed (a sidecar matched no key, --min-coverage,
    --on-missing error); 2 bad usage or invalid input. Nothing is written unless the join
    succeeds. Coverage below 100 % is a warning on stderr, with the fix the key diagnosis finds.
    """
    sidecars = parse_sidecars(sidecar)
    scorers = list(sidecars)
    lower = lower_is_better or []
    strict = no_scorer_fallback or []
    unmatched = allow_no_match or []
    for option, names in (
        ("--lower-is-better", lower),
        ("--no-scorer-fallback", strict),
        ("--allow-no-match", unmatched),
    ):
        for name in names:
            if name not in sidecars:
                msg = f"{option} {name!r}: not a sidecar (sidecars: {', '.join(scorers)})"
                raise UsageError(msg)
    maps = parse_key_maps(key_map or [], scorers)
    per_option = {
        "records": scoped("--records", records or [], scorers),
        "key_field": scoped("--key-field", key_field or [], scorers),
        "score_field": scoped("--score-field", score_field or [], scorers),
        "scorer_column": scoped("--scorer-column", scorer_column or [], scorers),
        "status_column": scoped("--status-column", status_column or [], scorers),
        "normalize_keys": scoped("--normalize-keys", normalize_keys or [], scorers),
        "frame_column": scoped("--frame-column", frame_column or [], scorers),
        "pool": scoped("--pool", pool or [], scorers),
        "columns": scoped("--columns", columns or [], scorers),
        "prefix": scoped("--prefix", prefix or [], scorers),
        "on_missing": scoped("--on-missing", on_missing or [], scorers),
        "min_coverage": scoped("--min-coverage", min_coverage or [], scorers),
        "on_duplicate": scoped("--on-duplicate", on_duplicate or [], scorers),
        "derived": scoped("--derived", derived or [], scorers),
        "variable": scoped("--variable", variable or [], scorers),
        "align": scoped("--align", align or [], scorers),
    }
    specs = []
    for scorer, path in sidecars.items():
        spec: dict[str, object] = {
            "scorer": scorer,
            "path": path,
            "key_map": maps[scorer],
            "higher_is_better": scorer not in lower,
        }
        if scorer in strict:
            spec["scorer_fallback"] = False
        if scorer in unmatched:
            spec["allow_no_match"] = True
        for field, values in per_option.items():
            if scorer in values:
                value = values[scorer]
                if field == "columns" and "{" in value:
                    spec[field] = value  # a pattern naming a score matrix's columns
                elif field in _LISTS:
                    spec[field] = split_list(value)
                elif field == "align":
                    spec[field] = parse_align(scorer, value)
                elif field == "min_coverage":
                    spec[field] = parse_fraction("--min-coverage", value)
                else:
                    spec[field] = value
        specs.append(spec)
    from second_opinion.join.run import join_to_file  # noqa: PLC0415 - DuckDB, on use
    from second_opinion.join.spec import build_join_spec  # noqa: PLC0415
    from second_opinion.join.spelling import CLI  # noqa: PLC0415

    join_spec = build_join_spec(features=features, key=key, sidecars=specs, spelling=CLI)
    try:
        report = join_to_file(
            join_spec,
            output,
            engine=engine_of(memory_limit, temp_dir),
            provenance=provenance,
            spelling=CLI,
        )
    except PolicyError as exc:
        if isinstance(exc.report, tuple):
            if as_json:
                print_json(
                    {
                        "ok": False,
                        "error": exc.message,
                        "coverage": [c.to_dict() for c in exc.report],
                    }
                )
            else:
                print_coverage(exc.report)
        raise
    print_warnings(report.warnings)
    if as_json:
        print_json({"ok": True} | report.to_dict())
        return
    print_coverage(report.coverage)
    console.print(
        f"wrote {report.rows} rows x {len(report.columns)} columns to {report.output}",
        markup=False,
    )
