"""The original materializer's batch manifests (a JSON object with ``tables``, no ``version``),
run unchanged with its semantics on the native join (docs/migrating.md, ADR 0012).

- ``models``: the manifest's fields, validated with every problem at once;
- ``load``: detecting the dialect, reading a manifest, resolving its paths against the base folder;
- ``translate``: one table as a native :class:`~second_opinion.join.spec.JoinSpec`;
- ``table``: running one table: join, policies, counts, audit JSON, provenance;
- ``writing``: the original's output formats, written atomically where the manifest names them;
- ``reports``: ``run_provenance`` blocks and the batch's JSON and Markdown reports;
- ``run``: the batch (every table, ``--fail-fast``, the summary line);
- ``checks``: ``validate`` for the dialect;
- ``migrate``: the equivalent native manifest.
"""
