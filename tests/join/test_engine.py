"""Engine limits: ``--memory-limit`` and ``--temp-dir`` reach DuckDB, and change no result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from second_opinion.batch.runner import run_batch
from second_opinion.errors import UsageError
from second_opinion.join.run import join_to_file
from second_opinion.join.session import JoinSession
from second_opinion.join.spec import JoinSpec, SidecarSpec
from second_opinion.tables.formats import Engine, connect
from tests.cli._run import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "join"
SCAFFOLD = ROOT / "testdata" / "smoke-second-opinion-batch"


def _spec() -> JoinSpec:
    return JoinSpec(
        features=EXAMPLE / "features.csv",
        key=("clip_id",),
        sidecars=(
            SidecarSpec(
                scorer="niqe",
                path=EXAMPLE / "niqe.jsonl",
                key_map={"video": "clip_id"},
                normalize_keys=("basename", "stem"),
            ),
            SidecarSpec(
                scorer="dover",
                path=EXAMPLE / "dover_frames.csv",
                frame_column="frame",
                pool=("mean", "p5"),
            ),
        ),
    )


def _mib(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0}[unit]


def test_connect_applies_the_memory_limit_and_the_spill_folder(tmp_path: Path) -> None:
    with connect(Engine(memory_limit="256MB", temp_dir=tmp_path)) as con:
        (limit, folder, bar) = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('enable_progress_bar')"
        ).fetchall()[0]
    assert _mib(str(limit)) == pytest.approx(256e6 / 2**20, rel=0.01)
    assert folder == str(tmp_path)
    assert bar is False


def test_an_unreadable_memory_limit_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        connect(Engine(memory_limit="lots"))
    assert caught.value.message.startswith("--memory-limit 'lots': DuckDB cannot use it (")
    assert caught.value.message.endswith("); give a size such as 4GB or 512MB")


def test_the_joiner_runs_under_the_limit_and_writes_the_same_table(tmp_path: Path) -> None:
    engine = Engine(memory_limit="128MB", temp_dir=tmp_path)
    with JoinSession(engine) as session:
        rows = session.con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert _mib(str(rows[0][0])) == pytest.approx(128e6 / 2**20, rel=0.01)
    limited = join_to_file(_spec(), tmp_path / "limited.csv", engine=engine)
    free = join_to_file(_spec(), tmp_path / "free.csv")
    assert (tmp_path / "limited.csv").read_bytes() == (tmp_path / "free.csv").read_bytes()
    assert limited.coverage == free.coverage


def test_a_batch_under_a_memory_limit_writes_the_same_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, folder)
    limited = run_batch(
        folder / "batch.json",
        out_dir=tmp_path / "limited",
        engine=Engine(memory_limit="256MB", temp_dir=tmp_path),
    )
    free = run_batch(folder / "batch.json", out_dir=tmp_path / "free")
    assert [j.status for j in limited.jobs] == ["built", "built"]
    for job in free.jobs:
        name = Path(job.output).name
        assert (tmp_path / "limited" / name).read_bytes() == Path(job.output).read_bytes()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--memory-limit", "lots"],
            "error: --memory-limit 'lots': DuckDB cannot use it (",
        ),
        (["--temp-dir", "no/such/folder"], "error: --temp-dir no/such/folder: no such folder; "),
    ],
)
def test_the_cli_refuses_bad_limits_with_exit_2_and_writes_nothing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "out.csv"
    result = run_cli(
        "join",
        "--features",
        EXAMPLE / "features.csv",
        "--sidecar",
        f"niqe={EXAMPLE / 'niqe.jsonl'}",
        "--key",
        "clip_id",
        "--key-map",
        "niqe:video=clip_id",
        "--normalize-keys",
        "niqe:basename,stem",
        "-o",
        out,
        *options,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message)
    assert not out.exists()
