"""``second-opinion audit``: how well each signal predicts MOS, how redundant, what each adds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from second_opinion.cli.render import console, err_console, print_json
from second_opinion.errors import UsageError

if TYPE_CHECKING:
    from second_opinion.audit.document import Table as DocumentTable
    from second_opinion.audit.families import FamilyAudit
    from second_opinion.audit.run import AuditResult


def audit_tables(result: AuditResult) -> list[Table]:
    """A summary table per corpus, its gain table when there is a baseline, and its
    comparisons when asked for."""
    from second_opinion.audit.compare_render import pairs_table  # noqa: PLC0415
    from second_opinion.audit.document import Heading  # noqa: PLC0415
    from second_opinion.audit.document import Table as DocumentTable  # noqa: PLC0415
    from second_opinion.audit.render import gain_table, signal_table  # noqa: PLC0415
    from second_opinion.audit.summary import summary_blocks  # noqa: PLC0415

    tables = []
    keep = ("signal", "n", "SRCC [95 % CI]", "PLCC [95 % CI]", "splits SRCC", "splits PLCC")
    comparisons = {found.corpus: found for found in result.comparisons}
    for corpus in result.corpora:
        full = signal_table(corpus)
        indices = [full.headers.index(h) for h in keep]
        table = Table(title=f"{corpus.corpus.name} ({corpus.corpus.n} rows)", title_justify="left")
        for header in keep:
            table.add_column(header, justify="left" if header == "signal" else "right")
        for row in full.rows:
            table.add_row(*(row[i] for i in indices))
        tables.append(table)
        gain = corpus.gain
        gained = gain_table(gain) if gain is not None else None
        if gain is not None and gained is not None:
            tables.append(_rich(gained, f"{corpus.corpus.name}: gain over {gain.baseline.name}"))
        found = comparisons.get(corpus.corpus.name)
        if found is not None and found.pairs:
            tables.append(_rich(pairs_table(found), f"{corpus.corpus.name}: comparisons"))
    title = ""
    for block in summary_blocks(result.corpora):  # with two or more corpora
        if isinstance(block, Heading):
            title = f"across corpora, {block.text}"
        elif isinstance(block, DocumentTable):
            tables.append(_rich(block, title))
    return tables


def _rich(table: DocumentTable, title: str) -> Table:
    """A report table as a rich one: the first column left, the others right."""
    out = Table(title=title, title_justify="left")
    for index, header in enumerate(table.headers):
        out.add_column(header, justify="left" if index == 0 else "right")
    for row in table.rows:
        out.add_row(*row)
    return out


def family_summary(audit: FamilyAudit) -> str:
    """One line per corpus: how many families are covered, which are weak or missing."""
    covered = len(audit.with_status("covered"))
    parts = [f"{audit.corpus}: {covered} of {len(audit.coverage)} signal families covered"]
    for status in ("weak", "missing"):
        keys = audit.with_status(status)
        parts.append(f"{status} {len(keys)}" + (f" ({', '.join(keys)})" if keys else ""))
    pairs = len(audit.redundant)
    parts.append(
        f"{pairs} redundant column pair{'' if pairs == 1 else 's'} "
        f"(|Pearson r| ≥ {audit.redundancy:g})"
    )
    return "; ".join(parts)


def _step(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    err_console.print(f"{stamp} {message}", markup=False, highlight=False)


def _signals(values: list[str] | None) -> dict[str, str]:
    from second_opinion.audit.signals import SignalSpec  # noqa: PLC0415

    signals: dict[str, str] = {}
    for value in values or []:
        spec = SignalSpec.parse(value)
        if spec.name in signals:
            msg = f"--signal {value!r}: the name {spec.name!r} is given twice"
            raise UsageError(msg)
        signals[spec.name] = ",".join(spec.globs)
    return signals


def audit_command(
    tables: Annotated[
        list[str], typer.Argument(metavar="TABLE...", help="Corpus tables: PATH or NAME=PATH.")
    ],
    mos: Annotated[str, typer.Option(help="The MOS column.")] = "mos",
    signal: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME=GLOB", help="A signal: columns matching GLOB[,GLOB]; repeat."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(metavar="NAME=GLOB", help="The baseline set that second opinions add to."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(metavar="GLOB", help="Columns no default signal takes; repeat."),
    ] = None,
    splits: Annotated[int, typer.Option(help="Random 80/20 train/test splits.")] = 100,
    model: Annotated[str, typer.Option(help="Regressor for multi-column signals: svr|ridge.")] = (
        "svr"
    ),
    search: Annotated[
        str, typer.Option(help="SVR's C/gamma search: random|random-exact|grid.")
    ] = "random",
    seed: Annotated[int, typer.Option(help="Seeds search draws, folds and bootstrap.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for CIs (0: none).")] = 1000,
    folds: Annotated[int, typer.Option(help="Folds for out-of-fold predictions.")] = 5,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Worker processes (default: the cores available)."),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder for audit.json, audit.md and audit.html.")
    ] = Path("audit"),
    plots: Annotated[bool, typer.Option(help="Embed plots in audit.html.")] = True,
    family_redundancy: Annotated[
        float, typer.Option(help="|Pearson r| from which two signal columns are redundant.")
    ] = 0.95,
    min_finite_ratio: Annotated[
        float, typer.Option(help="Share of finite values a healthy family column needs.")
    ] = 0.80,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            metavar="A,B", help="Compare two signals head to head over the splits; repeat."
        ),
    ] = None,
    compare_all: Annotated[
        bool, typer.Option("--compare-all", help="Compare every pair of signals (a matrix).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print audit.json to stdout.")] = False,
) -> None:
    """Audit the signal mix of corpus tables against MOS, with the UGC-VQA split protocol.

    Writes OUT/audit.json, OUT/audit.md and OUT/audit.html (with plots), including each
    corpus's signal-family coverage and redundant column pairs. Exit status: 0 done;
    2 bad input (no MOS column, a glob matching nothing, fewer than 10 rows).
    """
    from second_opinion.audit.options import build_options  # noqa: PLC0415

    options = build_options(
        mos=mos,
        signals=_signals(signal),
        baseline=baseline,
        exclude=tuple(exclude) if exclude else None,
        splits=splits,
        model=model,
        search=search,
        seed=seed,
        bootstrap=bootstrap,
        folds=folds,
        **({"jobs": jobs} if jobs is not None else {}),
        plots=plots,
        family_redundancy=family_redundancy,
        min_finite_ratio=min_finite_ratio,
        compare=tuple(compare or ()),
        compare_all=compare_all,
    )
    # Imported once the options are valid: scikit-learn, scipy and matplotlib are slow to load.
    from second_opinion.audit.output import write_report  # noqa: PLC0415
    from second_opinion.audit.report import audit_json  # noqa: PLC0415
    from second_opinion.audit.run import run_audit  # noqa: PLC0415
    from second_opinion.cli.progress import ProgressBars, ProgressLog, progress_bars  # noqa: PLC0415

    if err_console.is_terminal:
        with progress_bars(err_console) as bars:
            result = run_audit(tables, options, step=_step, progress=ProgressBars(bars))
    else:
        result = run_audit(tables, options, step=_step, progress=ProgressLog())
    files = write_report(result, out, plots=plots)
    if as_json:
        print_json(audit_json(result))
        return
    for table in audit_tables(result):
        console.print(table)
    for corpus in result.corpora:
        for a, b, rho in corpus.redundancy.flagged:
            console.print(
                f"{corpus.corpus.name}: {a} and {b} are redundant (ρ {rho:.3f})", markup=False
            )
    for families in result.families:
        console.print(family_summary(families), markup=False)
    console.print(f"report: {files.json}, {files.markdown}, {files.html}", markup=False)
