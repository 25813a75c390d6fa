"""The Ray executor: each job of a batch as a Ray task, on every node of a cluster.

Ray is an optional extra (``pip install 'second-opinion[ray]'``), imported only here. The driver
(the ``batch`` process) plans, holds the output folder's lock, keeps the hash cache and writes
the run summary, exactly as with the local executor; each task runs :func:`worker.run_job` on
some node and returns its outcome. Every node must therefore see the inputs and ``output_dir``
at the same paths (shared storage), and run the same second-opinion and DuckDB:
:func:`check_cluster` proves both on every node before any job starts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from second_opinion._version import __version__
from second_opinion.batch.executors.scheduler import Scheduler
from second_opinion.batch.manifest.jobs import AnyJob
from second_opinion.batch.outcomes import JobOutcome
from second_opinion.batch.planning import Plan
from second_opinion.batch.settings import BatchSettings
from second_opinion.batch.worker import run_job
from second_opinion.errors import InputError, MissingExtraError, UsageError
from second_opinion.placing import write_text_in_place

PROBE_TIMEOUT = 120.0
"""Seconds to wait for every node's probe: a node that cannot run it in time is named."""


def _ray() -> Any:  # noqa: ANN401 - the ray module
    try:
        import ray  # noqa: PLC0415
    except ImportError:
        feature = "--executor ray"
        raise MissingExtraError(feature, "ray", "ray") from None
    return ray


CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP connection to ``--ray-address`` (Ray itself retries for ever)."""


def _check_reachable(address: str) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) nothing answers at, before Ray, which
    would retry silently for ever, tries it."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # 'auto', 'local' and the like: Ray's own resolution
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        msg = (
            f"--ray-address {address}: nothing answers there ({exc.strerror or exc}); start the "
            "cluster's head with 'ray start --head' and give the address it prints, or leave "
            "--ray-address out to start a local Ray instance"
        )
        raise UsageError(msg) from None


def preflight(address: str | None) -> None:
    """Before a batch starts: Ray is installed and something answers at ``address``."""
    _ray()
    _check_reachable(address or os.environ.get("RAY_ADDRESS", ""))


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[None]:
    """Connect to the Ray cluster at ``address`` (None: ``RAY_ADDRESS``, else a new local one)
    unless this process already is; disconnect on exit if this call connected."""
    ray = _ray()
    if ray.is_initialized():
        yield
        return
    _check_reachable(address or os.environ.get("RAY_ADDRESS", ""))
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            configure_logging=False,
        )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"--ray-address {address}" if address else "Ray"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = (
            f"{where}: cannot connect to a Ray cluster ({first}); start one with "
            "'ray start --head' and give its address, or leave --ray-address out "
            "to start a local Ray instance"
        )
        raise UsageError(msg) from None
    try:
        yield
    finally:
        ray.shutdown()


def capacity() -> int:
    """The cluster's CPUs: how many jobs run at once unless ``--jobs`` says."""
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


def _run_task(plan: Plan, *, run_id: str, settings: BatchSettings) -> JobOutcome:
    """A Ray task's body: run the job where Ray placed it (phases are not reported)."""
    return run_job(plan, run_id=run_id, settings=settings, phase=lambda phase: None)


class RayScheduler(Scheduler):
    """Jobs as Ray tasks (one CPU each); results as the tasks finish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(*args, **kwargs)
        self.ray = _ray()
        self.task = self.ray.remote(num_cpus=1)(_run_task)
        self.refs: dict[Any, str] = {}

    def launch(self, plan: Plan) -> None:
        ref = self.task.options(name=f"second-opinion:{plan.job.name}").remote(
            plan, run_id=self.run_id, settings=self.settings
        )
        self.refs[ref] = plan.job.name

    def wait(self, timeout: float) -> None:
        if not self.refs:
            return
        ready, _ = self.ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        for ref in ready:
            name = self.refs.pop(ref)
            try:
                outcome = self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                self.died(
                    name,
                    f"the Ray task failed ({type(exc).__name__}: {first}); "
                    "the previous output, if any, is unchanged",
                )
                continue
            self.finished(name, outcome)

    def stop_all(self) -> None:
        refs = list(self.refs)
        for ref in refs:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
        # Cancelled tasks' workers are killed; wait for that before the staging files go.
        self.ray.wait(refs, num_returns=len(refs), timeout=10)
        self.refs.clear()


# --- what every node must see -------------------------------------------------------------------


def _probe(files: dict[str, int], token_path: str, token: str) -> dict[str, Any]:
    """Run on one node: which ``files`` it cannot see (or sees with another size), whether it
    sees and can write the output folder, and what it runs."""
    missing, differ = [], []
    for path, size in files.items():
        try:
            seen = Path(path).stat().st_size
        except OSError:
            missing.append(path)
            continue
        if seen != size:
            differ.append(path)
    folder = Path(token_path).parent
    output = None
    try:
        if Path(token_path).read_text(encoding="utf-8") != token:
            output = "it sees another folder at that path, not the driver's"
        else:
            check = folder / f".write-check-{secrets.token_hex(6)}"
            check.write_text("", encoding="utf-8")
            check.unlink()
    except OSError as exc:
        output = f"{exc.strerror or exc} ({exc.filename or folder})"
    return {
        "node": socket.gethostname(),
        "missing": missing,
        "differ": differ,
        "output": output,
        "tool": __version__,
        "duckdb": duckdb.__version__,
    }


def _files(jobs: Sequence[AnyJob]) -> dict[str, tuple[int, str]]:
    """Every input that exists now (outputs of earlier jobs do not yet): size and first job."""
    files: dict[str, tuple[int, str]] = {}
    for job in jobs:
        for _, _, path in job.inputs:
            with contextlib.suppress(OSError):
                files.setdefault(str(path), (path.stat().st_size, job.name))
    return files


def check_cluster(jobs: Sequence[AnyJob], output_dir: Path, run_id: str) -> None:
    """Prove that every alive node with CPUs sees each job's inputs (same size) and the output
    folder (it reads a token the driver wrote there and writes a file), and runs this
    second-opinion and DuckDB version. Raises :class:`InputError` naming each node and path."""
    ray = _ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # noqa: PLC0415

    files = _files(jobs)
    token_path = output_dir / ".second-opinion" / f"ray-probe-{run_id}"
    token = secrets.token_hex(16)
    write_text_in_place(token_path, token, "the Ray check's token", root=output_dir)
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("CPU", 0) > 0]
        probe = ray.remote(num_cpus=0, max_retries=0)(_probe)
        sizes = {path: size for path, (size, _) in files.items()}
        refs = {
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            ).remote(sizes, str(token_path), token): n
            for n in nodes
        }
        ready, late = ray.wait(list(refs), num_returns=len(refs), timeout=PROBE_TIMEOUT)
        problems = []
        for ref in late:
            ray.cancel(ref, force=True)
            problems.append(
                f"{_node(refs[ref])} did not answer the check within {PROBE_TIMEOUT:.0f} s"
            )
        for ref in ready:
            where = _node(refs[ref])
            try:
                seen = ray.get(ref)
            except ray.exceptions.RayError as exc:
                problems.append(f"{where} could not run the check ({type(exc).__name__})")
                continue
            problems.extend(_problems(where, seen, files, output_dir))
    finally:
        token_path.unlink(missing_ok=True)
    if problems:
        shown = "; ".join(problems[:6])
        more = f" (and {len(problems) - 6} more problems)" if len(problems) > 6 else ""
        msg = (
            f"the Ray cluster cannot run this batch: {shown}{more}. Every node must see the "
            "inputs and output_dir at the same paths (shared storage) and run the same "
            "second-opinion and DuckDB versions; nothing was run"
        )
        raise InputError(msg)


def _node(node: dict[str, Any]) -> str:
    """A node as messages name it: its address and the start of its id."""
    return f"Ray node {node['NodeManagerAddress']} (id {str(node['NodeID'])[:8]})"


def _problems(
    where: str, seen: dict[str, Any], files: dict[str, tuple[int, str]], output_dir: Path
) -> list[str]:
    """What one node's probe found wrong, one phrase per kind of problem."""
    found = []
    if seen["tool"] != __version__:
        found.append(f"{where} runs second-opinion {seen['tool']} (this one: {__version__})")
    if seen["duckdb"] != duckdb.__version__:
        found.append(f"{where} runs DuckDB {seen['duckdb']} (this one: {duckdb.__version__})")
    if seen["output"] is not None:
        found.append(f"{where} cannot use output_dir {output_dir}: {seen['output']}")
    for paths, what in ((seen["missing"], "cannot see"), (seen["differ"], "sees another size of")):
        if paths:
            first = paths[0]
            more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
            count = f"{len(paths)} of {len(files)} inputs"
            found.append(f"{where} {what} {count}: {first} (job {files[first][1]!r}){more}")
    return found
