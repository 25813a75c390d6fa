"""The original materializer's saliency batch manifests (``saliency-materializer-batch-v1``).

``config`` reads one table's materializer settings (its defaults merged under the table's own),
``clips`` checks that the table's clips would be read and sampled the same way,
``manifest`` loads a manifest into native saliency jobs (or refuses it, naming each field that
cannot be translated and the fix), ``run`` runs them through the batch runner, and ``report``
writes the original's batch report (JSON and Markdown) and per-table audit files.
docs/migrating.md#saliency-batch-manifests says what translates and what is refused.
"""
