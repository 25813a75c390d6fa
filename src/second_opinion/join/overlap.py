"""Writing the joined table while its coverage is still being measured.

The final ``COPY`` (join, order, compress, write) runs mostly on one core, and the coverage
report (counts, unmatched examples, closest keys, the key diagnosis) reads the same loaded
tables without changing them. So :func:`write_while` runs the write on a second cursor of the
join's database, in a thread, while the caller's check runs on its own connection; the written
file is put in place only once the check has returned. If the check raises (a policy failed, a
key problem), the write is interrupted and its temporary file removed: as before, nothing is
left at the output, and the check's error is the one raised.

The loaded tables are ordinary tables of the join's private in-memory database (not
``TEMP``, which one connection cannot see from another).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

import duckdb

from second_opinion.tables.writing import write_query

T = TypeVar("T")


class _Abandoned(Exception):  # noqa: N818 - not an error: the check failed first
    """The check failed: the written rows are not put in place."""


def write_while(
    con: duckdb.DuckDBPyConnection,
    query: str,
    output: Path,
    *,
    columns: Sequence[str],
    check: Callable[[], T],
    write: Callable[..., int] = write_query,
) -> tuple[int, T]:
    """Write ``query`` to ``output`` (as :func:`write_query`) on a cursor of ``con``, in a
    thread, while ``check()`` runs here on ``con``; return the rows written and what the check
    returned. The file is put in place only after the check returned; if the check raises, its
    exception is raised and nothing is written. A failure of the write is raised after a
    successful check (the order the two would fail in one after the other). ``write``: the
    writer, :func:`write_query` or one that takes the same arguments."""
    cursor = con.cursor()
    cursor.execute("SET enable_progress_bar = false")
    checked = threading.Event()
    state: dict[str, object] = {"failed": False}

    def ready() -> None:
        checked.wait()
        if state["failed"]:
            raise _Abandoned

    def run() -> None:
        try:
            state["rows"] = write(cursor, query, output, columns=columns, ready=ready)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            state["error"] = exc

    # The thread sees this one's context (the engine an out-of-memory message names).
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(run,), name="second-opinion-write")
    thread.start()
    try:
        try:
            result = check()
        except BaseException:
            state["failed"] = True
            checked.set()
            cursor.interrupt()
            raise
        checked.set()
    finally:
        thread.join()
        cursor.close()
    error = state.get("error")
    if isinstance(error, BaseException):
        raise error
    rows = state["rows"]
    assert isinstance(rows, int)  # noqa: S101 - written, or the error was raised
    return rows, result


def side_by_side(
    con: duckdb.DuckDBPyConnection,
    tasks: Sequence[Callable[[duckdb.DuckDBPyConnection], T]],
    *,
    workers: int = 2,
) -> list[T]:
    """Run each task on a cursor of its own of ``con``'s database, ``workers`` at a time, and
    return their results in order. If tasks raise, the first one's exception (in task order) is
    raised once all have ended: what running them one after the other would raise, since none
    sees what another does. For loading inputs into tables of their own (a connection cannot
    see another's ``TEMP`` tables or registered in-memory tables)."""
    if len(tasks) < 2 or workers < 2:
        return [task(con) for task in tasks]

    def run(task: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with con.cursor() as cursor:
            cursor.execute("SET enable_progress_bar = false")
            return task(cursor)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="second-opinion-load") as pool:
        futures = [pool.submit(contextvars.copy_context().run, run, task) for task in tasks]
        wait(futures)
    return [future.result() for future in futures]
