"""The batch report: one self-contained HTML page about a batch's ``output_dir``.

``model`` (the data), ``runs`` (reading run summaries and provenance records), ``coverage`` (a
record's coverage entries and files), ``build`` (:func:`build_batch_report`), ``render`` and
``job_section``, ``graph`` and ``html_parts`` (the page), ``write`` (:func:`write_batch_report`).
"""
