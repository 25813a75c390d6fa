"""``batch --executor ray``: jobs as Ray tasks give what the local executor gives (issue 7 §4).

A local Ray instance is started once for the module (as ``ray.init`` does for a user); the runner
finds it connected and uses it. The two-node tests start a real cluster with the ``ray`` CLI
(tests/_ray_cluster.py) and run the real entry point against it.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from second_opinion.batch.executors import ray as ray_executor
from second_opinion.batch.runner import BatchResult, run_batch
from second_opinion.errors import UsageError
from tests._ray_cluster import ENV, Cluster, can_hide_folders, free_port, two_node_cluster
from tests._scaffold import SCAFFOLD, Scaffold
from tests.cli._run import run_cli

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="the Ray executor's tests need the 'ray' extra")

SALIENCY = SCAFFOLD.parent / "smoke-saliency-batch"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        configure_logging=False,
    )
    yield
    ray.shutdown()


def files(folder: Path) -> dict[str, bytes]:
    """Every output file under ``folder`` except provenance, run summaries and state."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not p.name.endswith(".provenance.json")
        and p.relative_to(folder).parts[0] not in ("runs", ".second-opinion")
    }


def records(folder: Path) -> dict[str, Any]:
    """Every provenance record under ``folder``, without what differs from run to run."""
    found = {}
    for path in sorted(folder.rglob("*.provenance.json")):
        record = json.loads(path.read_text(encoding="utf-8").replace(str(folder), "<OUT>"))
        record.pop("run")
        found[path.name] = record
    return found


def summary(result: BatchResult, folder: Path) -> dict[str, Any]:
    """The run's summary without its id, times and output folder."""
    document: dict[str, Any] = json.loads(
        json.dumps(result.to_dict()).replace(str(folder), "<OUT>")
    )
    for key in ("run_id", "started", "finished", "manifest"):
        document.pop(key)
    for job in document["jobs"]:
        job.pop("seconds")
    return document


def copy(source: Path, folder: Path) -> Path:
    shutil.copytree(source, folder)
    return folder / "batch.json"


@pytest.mark.usefixtures("local_ray")
@pytest.mark.parametrize("source", [SCAFFOLD, SALIENCY], ids=["join", "saliency"])
def test_ray_gives_the_outputs_provenance_and_summary_of_the_local_executor(
    tmp_path: Path, source: Path
) -> None:
    manifest = copy(source, tmp_path / "scaffold")
    local, remote = tmp_path / "local", tmp_path / "ray"

    by_local = run_batch(manifest, out_dir=local)
    by_ray = run_batch(manifest, out_dir=remote, executor="ray")

    assert by_ray.ok, [j.error for j in by_ray.jobs]
    assert files(remote) == files(local)
    assert len(files(remote)) == len(by_ray.jobs)
    assert records(remote) == records(local)
    assert summary(by_ray, remote) == summary(by_local, local)
    saved = json.loads((remote / "runs" / f"{by_ray.run_id}.json").read_text(encoding="utf-8"))
    assert saved["jobs"] == by_ray.to_dict()["jobs"]


@pytest.mark.usefixtures("local_ray")
def test_ray_jobs_are_incremental_and_a_failed_job_says_what_the_local_one_says(
    tmp_path: Path,
) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    first = scaffold.run(executor="ray")
    assert [j.status for j in first.jobs] == ["done", "done"]
    again = scaffold.run(executor="ray")
    assert [(j.status, j.reason) for j in again.jobs] == [("up-to-date", "unchanged")] * 2

    kept = scaffold.output("corpus-b")
    before = kept.read_bytes()
    scaffold.edit_manifest(lambda data: data["jobs"][1]["sidecars"][0].update(min_coverage=1.0))
    local = run_batch(scaffold.manifest, out_dir=tmp_path / "local")
    by_ray = scaffold.run(executor="ray")

    assert [j.status for j in by_ray.jobs] == ["up-to-date", "failed"]
    assert "coverage" in (local.jobs[1].error or "")
    assert by_ray.jobs[1].error == (local.jobs[1].error or "").replace(
        str(tmp_path / "local"), str(scaffold.out)
    )
    assert kept.read_bytes() == before  # the previous output stays
    assert not [p for p in scaffold.out.iterdir() if ".staging" in p.name or p.suffix == ".tmp"]


def test_executor_and_address_are_checked_before_anything_runs(tmp_path: Path) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    with pytest.raises(UsageError, match=r"^--executor 'spark': give one of local, ray$"):
        scaffold.run(executor="spark")
    with pytest.raises(
        UsageError, match=r"^--ray-address 10\.0\.0\.1:6379: give it with --executor ray$"
    ):
        scaffold.run(ray_address="10.0.0.1:6379")
    assert not scaffold.out.exists()


def test_an_address_nothing_answers_at_is_refused_at_once(tmp_path: Path) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    port = free_port()
    result = run_cli(
        "batch",
        scaffold.manifest,
        "--out-dir",
        scaffold.out,
        "--executor",
        "ray",
        "--ray-address",
        f"127.0.0.1:{port}",
    )
    assert result.returncode == 2, result.stderr
    assert f"error: --ray-address 127.0.0.1:{port}: nothing answers there" in result.stderr
    assert "'ray start --head'" in result.stderr
    assert not scaffold.out.exists()


# --- a real cluster of two nodes ----------------------------------------------------------------

needs_namespaces = pytest.mark.skipif(
    not can_hide_folders(), reason="needs unshare -m and mount (root or CAP_SYS_ADMIN)"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if ray.is_initialized():  # the module's local instance, if a test above started it
        ray.shutdown()
    with two_node_cluster() as started:
        yield started


@needs_namespaces
def test_on_two_nodes_with_shared_storage_the_outputs_are_the_local_ones(
    cluster: Cluster, tmp_path: Path
) -> None:
    manifest = copy(SCAFFOLD, cluster.shared / "join")
    out = cluster.shared / "join-out"
    result = run_cli(
        "batch",
        manifest,
        "--out-dir",
        out,
        "--executor",
        "ray",
        "--ray-address",
        cluster.address,
        "--json",
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [j["status"] for j in document["jobs"]] == ["done", "done"]
    local = tmp_path / "local"
    run_batch(manifest, out_dir=local)
    assert files(out) == files(local)
    assert records(out) == records(local)


@needs_namespaces
def test_a_node_that_cannot_see_the_inputs_or_the_output_folder_is_named_before_any_job_runs(
    cluster: Cluster,
) -> None:
    manifest = copy(SCAFFOLD, cluster.private / "join")
    out = cluster.private / "join-out"
    result = run_cli(
        "batch",
        manifest,
        "--out-dir",
        out,
        "--executor",
        "ray",
        "--ray-address",
        cluster.address,
        env=ENV,
    )

    assert result.returncode == 2, result.stderr
    message = result.stderr.split("error: ", 1)[1]
    node = r"Ray node [\d.]+ \(id [0-9a-f]{8}\)"
    assert re.match(r"the Ray cluster cannot run this batch: " + node, message), message
    assert re.search(node + rf" cannot use output_dir {re.escape(str(out))}: No such file", message)
    first_input = manifest.parent / "features_corpus_a.jsonl"
    assert re.search(
        node + rf" cannot see 4 of 4 inputs: {re.escape(str(first_input))} \(job 'corpus-a'\) "
        "and 3 more",
        message,
    ), message
    assert message.rstrip().endswith(
        "Every node must see the inputs and output_dir at the same paths (shared storage) and "
        "run the same second-opinion and DuckDB versions; nothing was run"
    )
    assert message.count("Ray node") == 2  # one node: its output folder, its inputs
    assert [p.name for p in out.iterdir()] == [".second-opinion"]  # the lock; no output
    assert not list((out / ".second-opinion").glob("ray-probe-*"))


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        msg = f"no result after {seconds} s"
        raise TimeoutError(msg)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _die(plan: Any, **kwargs: Any) -> Any:
    """A Ray task body whose worker process dies at once, as a crash or the OOM killer would."""
    import os  # noqa: PLC0415 - pickled by value, imports where it runs

    os._exit(17)


_die.__module__ = "__main__"  # so that Ray pickles it by value: its workers need not import tests


@pytest.mark.usefixtures("local_ray")
def test_a_ray_task_that_dies_is_a_failed_job_and_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    assert [j.status for j in scaffold.run().jobs] == ["done", "done"]
    before = {p.name: p.read_bytes() for p in sorted(scaffold.out.iterdir()) if p.is_file()}
    monkeypatch.setattr(ray_executor, "_run_task", _die)

    with _deadline(120):  # a death nobody reports would leave the batch waiting forever
        result = scaffold.run(executor="ray", force=True)

    assert [(j.status, j.reason) for j in result.jobs] == [("failed", "forced")] * 2
    for job in result.jobs:
        assert job.error is not None
        assert re.fullmatch(
            r"the Ray task failed \((WorkerCrashedError|RayTaskError\w*|ActorDiedError): .+\); "
            r"the previous output, if any, is unchanged",
            job.error,
        ), job.error
    after = {p.name: p.read_bytes() for p in sorted(scaffold.out.iterdir()) if p.is_file()}
    assert after == before
    assert not [p for p in scaffold.out.rglob(".*") if p.is_file() and ".staging" in p.name]
