"""The commands of the ``second-opinion`` app: name, module, function and one-line help.

A static table, so that the app can load only the module of the command it runs (typer, rich
and each command's options cost tens of milliseconds a module) and still list every command in
``--help``; a test holds each help line equal to the first line of its function's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A command: its name, where its function lives (``second_opinion.cli.<module>``), the
    first line of its help."""

    name: str
    module: str
    function: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command(
        "join",
        "join",
        "join_command",
        "Join scorer sidecars onto a corpus table, print coverage, write the result atomically.",
    ),
    Command(
        "batch",
        "batch",
        "batch_command",
        "Run a manifest's jobs in parallel, skipping up-to-date ones; write provenance.",
    ),
    Command(
        "status",
        "status",
        "status_command",
        "Say which jobs are up to date, stale (and why) or failed, from fingerprints alone.",
    ),
    Command(
        "validate",
        "manifest",
        "validate_command",
        "Check a manifest: schema, inputs exist, key/frame/score columns exist. Runs nothing.",
    ),
    Command(
        "schema",
        "manifest",
        "schema_command",
        "Print the JSON Schema of batch manifests (version 1).",
    ),
    Command(
        "inspect",
        "inspect",
        "inspect_command",
        "Show an output's provenance record and check the output against it.",
    ),
    Command(
        "smoke",
        "smoke",
        "smoke_command",
        "Run the smoke scaffolds (join; saliency) in fresh temporary folders, "
        "compare with goldens.",
    ),
    Command(
        "audit",
        "audit",
        "audit_command",
        "Audit the signal mix of corpus tables against MOS, with the UGC-VQA split protocol.",
    ),
    Command(
        "ingest",
        "ingest",
        "ingest_command",
        "Write the canonical corpus table (clip_id, mos, corpus, mos_min, mos_max, mos_01, …).",
    ),
    Command(
        "migrate",
        "migrate",
        "migrate_command",
        "Write the native manifest (version 1) equivalent to an original one; print it without -o.",
    ),
    Command(
        "report",
        "report",
        "report_command",
        "Write the batch report of OUTPUT_DIR: one self-contained HTML page.",
    ),
)
"""Every command, in the order ``--help`` lists them."""


def invoked(args: list[str]) -> Command | None:
    """The command ``args`` (the command line after the program name) runs, if any: the first
    argument that is not an option (the app's own options take no value)."""
    after_dashes = False
    for arg in args:
        if arg == "--" and not after_dashes:
            after_dashes = True
        elif after_dashes or not arg.startswith("-"):
            return next((c for c in COMMANDS if c.name == arg), None)
    return None
