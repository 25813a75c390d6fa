"""Untrusted manifests and inputs: nothing is run or unpickled, nothing unnamed is read.

The promise (README, docs/manifest.md, docs/join.md "Nothing is ever unpickled or executed",
docs/corpora.md "Read, never run"): no input is ever executed or unpickled, and a manifest cannot
make the tool read outside the paths it names (nor touch the network). Outputs confined to
``output_dir`` are tested in tests/batch/test_manifest.py and not repeated here.

Each test plants a hostile input and checks two things: the outcome (a ``SecondOpinionError``, or
exit status 2, whose message names the file and the problem; or the data read as plain data), and
that the hostile action did not happen:

* code execution: a marker file (``PWNED``/``PWNED.csv`` in ``tmp_path``) that running or
  unpickling the input would create is absent;
* reading a file not named: a decoy file next to (or instead of) the named one holds values
  (``DECOY``, ``-999``) that must not reach the output or the message;
* network: a local HTTP server records every connection, and DuckDB's extension auto-install is
  pointed at that server (in-process by patching ``duckdb.connect``, in CLI subprocesses by a
  ``sitecustomize``), so a URL fetched or an extension downloaded shows up as a connection.

Known gaps are strict xfails; each reason says what goes wrong.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import pickle
import re
import sqlite3
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import h5py  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]
from onnx import TensorProto, helper
from scipy.io.matlab import MatlabObject  # type: ignore[import-untyped, unused-ignore]

from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.validate import validate_manifest
from second_opinion.errors import InputError, SecondOpinionError, UsageError
from second_opinion.ingest.errors import UnsafeDatasetError
from second_opinion.ingest.ingest import ingest
from second_opinion.join.run import join, join_to_file
from second_opinion.join.spec import JoinSpec, build_join_spec
from second_opinion.matrices.read import read_matrix
from second_opinion.saliency.model import SaliencyModel
from second_opinion.tables.formats import Engine, connect
from tests._matrices import Tripwire, write_mat73
from tests._tables import read_rows, write_table
from tests.cli._run import ENV, PYTHON_M, run_cli

MARKER = "PWNED"
"""What a hostile input tries to create: ``tmp_path / MARKER`` (or ``MARKER.csv``)."""

DECOY = -999.0
"""The score every decoy file holds: it must never reach an output."""


def _no_marker(root: Path) -> None:
    """No file named like a marker exists anywhere under ``root``."""
    found = [p for p in root.rglob("*") if p.name in (MARKER, f"{MARKER}.csv")]
    assert found == [], f"a hostile input ran: {found}"


def _write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def _problems(error: SecondOpinionError) -> list[str]:
    """The problem lines of a manifest error (every line after the header)."""
    return [line.strip() for line in error.message.splitlines()[1:]]


# --- watching the network ----------------------------------------------------------------------


@dataclass
class Recorder:
    """A local HTTP server that records every connection and request made to it."""

    url: str
    port: int
    connections: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def untouched(self) -> bool:
        return not self.connections and not self.requests


@pytest.fixture
def server() -> Iterator[Recorder]:
    """A server on 127.0.0.1 that answers 404 to everything and records who asked."""
    recorder = Recorder(url="", port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _record(self) -> None:
            recorder.requests.append(f"{self.command} {self.path}")
            self.send_error(404)

        def do_GET(self) -> None:
            self._record()

        def do_HEAD(self) -> None:
            self._record()

        def do_POST(self) -> None:
            self._record()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads the recorder."""

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def verify_request(self, request: Any, client_address: Any) -> bool:
            recorder.connections.append(str(client_address))
            return True

    httpd = Server(("127.0.0.1", 0), Handler)
    recorder.port = int(httpd.server_address[1])
    recorder.url = f"http://127.0.0.1:{recorder.port}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _watch_settings(repository: str, extensions: Path) -> dict[str, str]:
    """DuckDB settings that send any extension download to ``repository`` (the recorder)."""
    return {
        "autoinstall_extension_repository": repository,
        "custom_extension_repository": repository,
        "extension_directory": str(extensions),
    }


@pytest.fixture
def watched(server: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """In this process, every DuckDB connection installs extensions from the recorder."""
    real = duckdb.connect
    settings = _watch_settings(server.url, tmp_path / "extensions")

    def connect(
        database: str = ":memory:",
        read_only: bool = False,
        config: Mapping[str, Any] | None = None,
    ) -> duckdb.DuckDBPyConnection:
        return real(database, read_only=read_only, config={**(config or {}), **settings})

    monkeypatch.setattr(duckdb, "connect", connect)
    return server


# Imported by every Python process of a CLI run (workers too): DuckDB installs extensions from
# the recorder, so a download attempt is a recorded connection.
SITECUSTOMIZE = """\
import os
import pickle
if os.environ.get("SO_TEST_REPOSITORY"):
    import duckdb
    _connect = duckdb.connect
    _settings = {
        "autoinstall_extension_repository": os.environ["SO_TEST_REPOSITORY"],
        "custom_extension_repository": os.environ["SO_TEST_REPOSITORY"],
        "extension_directory": os.environ["SO_TEST_EXTENSIONS"],
    }
    def _watched(database=":memory:", read_only=False, config=None):
        return _connect(database, read_only=read_only, config={**(config or {}), **_settings})
    duckdb.connect = _watched
"""


def cli(
    tmp_path: Path,
    *args: str | Path,
    cwd: Path | None = None,
    server: Recorder | None = None,
    env: Mapping[str, str] | None = None,
    program: tuple[str, ...] = PYTHON_M,
) -> subprocess.CompletedProcess[str]:
    """``second-opinion ARGS`` with HOME in ``tmp_path``, watched by ``server`` if given."""
    site = tmp_path / "_site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    home = tmp_path / "_home"
    home.mkdir(exist_ok=True)
    paths = [str(site), *([ENV["PYTHONPATH"]] if ENV.get("PYTHONPATH") else [])]
    full = {**ENV, "HOME": str(home), "PYTHONPATH": os.pathsep.join(paths), **(env or {})}
    if server is not None:
        full |= {"SO_TEST_REPOSITORY": server.url, "SO_TEST_EXTENSIONS": str(tmp_path / "_ext")}
    return run_cli(*args, cwd=cwd or tmp_path, env=full, program=program)


def test_the_network_watch_sees_a_fetch_and_an_extension_download(
    watched: Recorder, tmp_path: Path
) -> None:
    """Positive control: what the other tests assert never happens is seen when it does."""
    con = duckdb.connect()
    with pytest.raises(duckdb.Error, match="httpfs"):
        con.execute(f"SELECT * FROM read_csv('{watched.url}/x.csv')")
    assert watched.connections  # auto-installing httpfs went to the recorder
    assert (tmp_path / "extensions").is_dir()  # and created the extension folder
    watched.connections.clear()
    site_check = (
        "import duckdb\n"
        "try:\n"
        "    duckdb.connect().execute(\"ATTACH 'x.sqlite' (TYPE sqlite)\")\n"
        "except duckdb.Error as exc:\n"
        "    print(exc)\n"
    )
    result = cli(tmp_path, server=watched, program=(sys.executable, "-c", site_check))
    assert "sqlite" in result.stdout, result.stderr
    assert watched.connections  # the CLI's processes are watched too
    assert (tmp_path / "_ext").is_dir()


# --- code execution: VMAF dataset files (.py) --------------------------------------------------

DATASET_HEAD = """\
dataset_name = 'evil'
ref_dir = '/ref'
ref_videos = [{'content_id': 0, 'content_name': 'c', 'path': ref_dir + '/c.yuv'}]
"""
DIS_VIDEOS = "dis_videos = [{'content_id': 0, 'asset_id': 0, 'os': [3, 4], 'path': '/dis/a.yuv'}]\n"


def _dataset(folder: Path, body: str, name: str = "dataset.py") -> Path:
    """A VMAF dataset file: the valid head (3 lines), then ``body`` (``{M}`` is the marker)."""
    path = folder / name
    text = DATASET_HEAD + body.replace("{M}", repr(str(folder / MARKER)))
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "line", "what"),
    [
        pytest.param(
            "open({M}, 'w').write('x')\n" + DIS_VIDEOS,
            4,
            "an expression statement (a function call)",
            id="top-level-call",
        ),
        pytest.param(
            "__import__('os').system('touch ' + {M})\n" + DIS_VIDEOS,
            4,
            "an expression statement (a function call)",
            id="dunder-import",
        ),
        pytest.param("import os\n" + DIS_VIDEOS, 4, "an import", id="import"),
        pytest.param(
            "dis_videos = [{'content_id': 0, 'asset_id': 0, 'path': '/dis/a.yuv',\n"
            "               'os': [__import__('os').system('touch ' + {M})]}]\n",
            5,
            "a function call",
            id="call-in-a-dict",
        ),
        pytest.param(
            "dis_videos = [{'content_id': 0, 'asset_id': 0, 'os': [3],\n"
            "               'path': f\"{open({M}, 'w')}\"}]\n",
            5,
            "an f-string",
            id="f-string",
        ),
        pytest.param(
            "dataset_name = (lambda: open({M}, 'w'))()\n" + DIS_VIDEOS,
            4,
            "a function call",
            id="lambda-called",
        ),
        pytest.param(
            "dataset_name = ().__class__.__base__.__subclasses__\n" + DIS_VIDEOS,
            4,
            "attribute access",
            id="dunder-attributes",
        ),
        pytest.param(
            'dataset_name = exec("open(" + {M} + ", \'w\')")\n' + DIS_VIDEOS,
            4,
            "a function call",
            id="exec",
        ),
        pytest.param(
            "@__import__('os').system\ndef f(): pass\n" + DIS_VIDEOS,
            5,
            "a function definition",
            id="decorator",
        ),
        pytest.param(
            "class X(metaclass=type(open({M}, 'w'))): pass\n" + DIS_VIDEOS,
            4,
            "a class definition",
            id="class",
        ),
        pytest.param(
            "with open({M}, 'w'): pass\n" + DIS_VIDEOS, 4, "a 'with' statement", id="with"
        ),
        pytest.param(
            "dis_videos = [v for v in [open({M}, 'w')]]\n", 4, "a comprehension", id="comprehension"
        ),
        pytest.param(
            "dataset_name = 'x' % open({M}, 'w')\n" + DIS_VIDEOS,
            4,
            "the operator '%'",
            id="percent-format",
        ),
        pytest.param("dis_videos = [*map(open, [{M}])]\n", 4, "'*' unpacking", id="star"),
        pytest.param(
            "dataset_name = {**globals()}\n" + DIS_VIDEOS, 4, "'**' unpacking", id="double-star"
        ),
        pytest.param(
            "dataset_name = (f := open({M}, 'w'))\n" + DIS_VIDEOS,
            4,
            "an ':=' assignment",
            id="walrus",
        ),
    ],
)
def test_a_dataset_file_is_read_never_run(tmp_path: Path, body: str, line: int, what: str) -> None:
    source = _dataset(tmp_path, body)
    with pytest.raises(UnsafeDatasetError) as caught:
        ingest("netflix-public", source, tmp_path / "out.csv")
    assert caught.value.message.startswith(f"{source} line {line}: {what} is not allowed")
    assert "the dataset file is read, never run" in caught.value.message
    assert not (tmp_path / "out.csv").exists()
    _no_marker(tmp_path)


def test_a_dataset_file_cannot_use_builtins_it_did_not_assign(tmp_path: Path) -> None:
    source = _dataset(tmp_path, "dataset_name = __builtins__\n" + DIS_VIDEOS)
    with pytest.raises(
        UnsafeDatasetError,
        match=r"dataset\.py line 4: name '__builtins__' is not assigned above",
    ):
        ingest("netflix-public", source, tmp_path / "out.csv")


def test_an_annotation_in_a_dataset_file_is_never_evaluated(tmp_path: Path) -> None:
    """``name: <call> = value``: the annotation is never run; the value is read or refused."""
    source = _dataset(tmp_path, "dataset_name: open({M}, 'w').write('x') = 'evil'\n" + DIS_VIDEOS)
    ingest("netflix-public", source, tmp_path / "out.csv")  # the value is a plain literal

    rows = read_rows(tmp_path / "out.csv")
    assert [(r["clip_id"], r["dataset_name"]) for r in rows] == [("a", "evil")]
    _no_marker(tmp_path)


def test_a_dataset_file_from_the_command_line_and_a_manifest_is_never_run(
    tmp_path: Path,
) -> None:
    body = (
        "dis_videos = [{'content_id': 0, 'asset_id': 0, 'path': '/dis/a.yuv',\n"
        "               'os': [__import__('os').system('touch ' + {M})]}]\n"
    )
    source = _dataset(tmp_path, body)
    result = cli(tmp_path, "ingest", "netflix-public", source, "-o", tmp_path / "out.csv")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        f"error: {source} line 5: a function call is not allowed (in the value of 'dis_videos')"
    )
    assert not (tmp_path / "out.csv").exists()

    (tmp_path / "scores.csv").write_text("clip_id,s\na,1\n", encoding="utf-8")
    manifest = _write_json(
        tmp_path / "m.json",
        {
            "version": 1,
            "output_dir": "out",
            "jobs": [
                {
                    "name": "evil",
                    "ingest": {"preset": "netflix-public", "metadata": "dataset.py"},
                    "sidecars": [{"scorer": "s", "path": "scores.csv"}],
                    "output": "evil.csv",
                }
            ],
        },
    )
    with pytest.raises(InputError) as caught:
        validate_manifest(manifest)
    assert _problems(caught.value)[0].startswith(
        f"jobs[0] (evil): {source} line 5: a function call is not allowed"
    )
    _no_marker(tmp_path)


# Memory-capped (2 GiB of address space: DuckDB, pyarrow and NumPy with its BLAS buffers load
# within it, in whatever order a command loads them), so that the expansion below fails fast
# instead of exhausting the machine.
LIMIT_AND_RUN = (
    "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    "from second_opinion.cli.main import main; main()"
)
CAPPED = (sys.executable, "-c", LIMIT_AND_RUN)


def test_a_dataset_file_cannot_blow_up_into_gigabytes(tmp_path: Path) -> None:
    doubling = "".join(f"s{i} = s{i - 1} + s{i - 1}\n" for i in range(1, 31))
    source = _dataset(tmp_path, "s0 = 'xxxxxxxxxxxxxxxx'\n" + doubling + DIS_VIDEOS, "bomb.py")
    result = cli(
        tmp_path, "ingest", "netflix-public", source, "-o", tmp_path / "o.csv", program=CAPPED
    )
    assert "MemoryError" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {source} line ")


# --- code execution: YAML and JSON manifests ---------------------------------------------------

YAML_TAGS = [
    "!!python/object/apply:os.system [touch {M}]",
    "!!python/object/new:os.system [touch {M}]",
    "!!python/object/apply:subprocess.check_call [[touch, {M}]]",
    "!!python/object:subprocess.Popen {args: [touch, {M}]}",
    "!!python/name:os.system",
    "!!python/module:os",
    '!shell "touch {M}"',
]


@pytest.mark.parametrize("tagged", YAML_TAGS)
@pytest.mark.parametrize("where", ["output_dir", "description", "features", "key"])
def test_yaml_python_tags_are_refused_not_constructed(
    tmp_path: Path, tagged: str, where: str
) -> None:
    value = tagged.replace("{M}", str(tmp_path / MARKER))
    fields = {"output_dir": "out", "description": "d", "features": "f.csv", "key": "[clip_id]"}
    fields[where] = value
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        f"version: 1\noutput_dir: {fields['output_dir']}\ndescription: {fields['description']}\n"
        f"jobs:\n  - name: j\n    features: {fields['features']}\n    key: {fields['key']}\n"
        "    sidecars: [{scorer: s, path: s.csv}]\n    output: j.csv\n",
        encoding="utf-8",
    )
    line = {"output_dir": 2, "description": 3, "features": 6, "key": 7}[where]
    tag = tagged.split(maxsplit=1)[0].replace("!!", "tag:yaml.org,2002:")
    with pytest.raises(InputError) as caught:
        load_manifest(manifest)
    assert caught.value.message == (
        f"{manifest} line {line}: invalid YAML (could not determine a constructor for the tag "
        f"{tag!r})"
    )
    _no_marker(tmp_path)


def test_a_yaml_tag_on_the_command_line_exits_2_naming_the_file_and_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yml"
    manifest.write_text(
        f"version: 1\noutput_dir: !!python/object/apply:os.system ['touch {tmp_path / MARKER}']\n"
        "jobs: []\n",
        encoding="utf-8",
    )
    result = cli(tmp_path, "validate", manifest)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {manifest} line 2: invalid YAML (could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system')"
    )
    _no_marker(tmp_path)


def test_a_yaml_alias_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    lines = ["version: 1", "output_dir: out", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines += [
        "jobs:",
        "  - {name: j, features: f.csv, output: o.csv, key: *a8, description: *a8,",
        "     sidecars: [{scorer: s, path: s.csv, columns: *a8, key_map: *a8, derived: *a8}]}",
    ]
    manifest = tmp_path / "bomb.yaml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_manifest(manifest)
    assert "jobs[0].key[0]: Input should be a valid string" in _problems(caught.value)
    assert len(caught.value.message) < 10_000  # 10^9 leaves are never spelled out


def test_manifest_strings_that_look_like_code_are_plain_data(tmp_path: Path) -> None:
    """Shell and Python in paths, names and descriptions of a JSON manifest: files are read by
    their literal names (``$HOME`` is a folder called ``$HOME``, not the home folder), and the
    job runs; nothing is evaluated."""
    data = tmp_path / "data"
    (data / "$HOME").mkdir(parents=True)
    home = tmp_path / "_home"
    home.mkdir()
    code = f"__import__('os').system('touch {MARKER}')"
    write_table(
        data / f"$(touch {MARKER}).csv",
        [{"clip_id": "a", "mos": 1.5}, {"clip_id": code, "mos": 2.5}],
    )
    score = f"`touch {MARKER}`"
    write_table(
        data / f"`touch {MARKER}`.jsonl",
        [{"clip_id": "a", score: 0.5}, {"clip_id": code, score: 0.25}],
    )
    write_table(data / "$HOME" / "x.csv", [{"clip_id": "a", "v": 7.0}])
    write_table(home / "x.csv", [{"clip_id": "a", "v": DECOY}])
    manifest = _write_json(
        tmp_path / "m.json",
        {
            "version": 1,
            "output_dir": "out",
            "description": f"{code}; $(touch {MARKER}); `touch {MARKER}`",
            "jobs": [
                {
                    "name": "j",
                    "description": "{{ cycler.__init__.__globals__.os.popen('id') }}",
                    "key": ["clip_id"],
                    "features": f"data/$(touch {MARKER}).csv",
                    "sidecars": [
                        {
                            "scorer": "a",
                            "path": f"data/`touch {MARKER}`.jsonl",
                            "prefix": f"{code}_",
                            "description": "eval(input())",
                        },
                        {"scorer": "b", "path": "data/$HOME/x.csv"},
                    ],
                    "output": "j.jsonl",
                }
            ],
        },
    )
    result = cli(tmp_path, "batch", manifest, "--json", env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert read_rows(tmp_path / "out" / "j.jsonl") == [
        {"clip_id": "a", "mos": 1.5, f"{code}_{score}": 0.5, "so_b_v": 7.0},
        {"clip_id": code, "mos": 2.5, f"{code}_{score}": 0.25, "so_b_v": None},
    ]
    _no_marker(tmp_path)


# --- code execution: pickles and other objects in score matrices -------------------------------


def _base(folder: Path, n: int = 2) -> Path:
    return write_table(
        folder / "base.csv", [{"clip_id": f"c{i}", "mos": i + 0.5} for i in range(n)]
    )


def _matrix_spec(base: Path, matrix: Path, variable: str | None = None) -> JoinSpec:
    sidecar: dict[str, Any] = {
        "scorer": "m",
        "path": matrix,
        "variable": variable,
        "align": {"keys_from": base, "column": "clip_id"},
    }
    return build_join_spec(features=base, key=["clip_id"], sidecars=[sidecar])


def _npy_with_header(path: Path, header: str, payload: bytes = b"") -> Path:
    """A .npy file whose header dictionary is ``header`` verbatim (format 1.0)."""
    text = header.encode("latin-1")
    padded = text + b" " * (-(len(text) + 11) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded + payload)
    return path


def _pickled(folder: Path) -> dict[str, tuple[Path, str | None, str]]:
    """Score matrices that would run code if unpickled: (file, variable, expected message)."""
    marker = folder / MARKER
    tripwire = np.array([Tripwire(marker), 1.0], dtype=object)
    np.save(folder / "object.npy", tripwire, allow_pickle=True)
    np.savez(folder / "object.npz", scores=tripwire)
    structured = np.array([(1.0, Tripwire(marker))] * 2, dtype=[("s", "f8"), ("o", "O")])
    np.save(folder / "structured.npy", structured, allow_pickle=True)
    raw = folder / "raw-pickle.npy"  # a bare pickle under a NumPy name
    raw.write_bytes(pickle.dumps(Tripwire(marker)))
    _npy_with_header(
        folder / "header-code.npy",
        f"{{'descr': __import__('os').system('touch {marker}'), 'fortran_order': False, "
        "'shape': (2,), }",
    )
    (folder / "pickle.mat").write_bytes(raw.read_bytes())
    object_array = "is an object array, which only unpickling can load (never done here"
    return {
        "object.npy": (folder / "object.npy", None, f"the array (2 (1-D) object) {object_array}"),
        "object.npz": (
            folder / "object.npz",
            "scores",
            f"variable 'scores' (2 (1-D) object) {object_array}",
        ),
        "object.npz-default": (folder / "object.npz", None, "no numeric matrix among the"),
        "structured.npy": (folder / "structured.npy", None, object_array),
        "raw-pickle.npy": (raw, None, "not a valid .npy array"),
        "header-code.npy": (folder / "header-code.npy", None, "not a valid .npy array"),
        "pickle.mat": (folder / "pickle.mat", None, "not a MATLAB .mat file"),
    }


CASES = [
    "object.npy",
    "object.npz",
    "object.npz-default",
    "structured.npy",
    "raw-pickle.npy",
    "header-code.npy",
    "pickle.mat",
]


def test_the_hostile_matrices_are_armed(tmp_path: Path) -> None:
    """Positive control: unpickling what the next tests feed the tool does create the marker,
    and ``_no_marker`` sees it."""
    cases = _pickled(tmp_path)
    np.load(cases["object.npy"][0], allow_pickle=True)
    assert (tmp_path / MARKER).exists()
    (tmp_path / MARKER).unlink()
    pickle.loads(cases["raw-pickle.npy"][0].read_bytes())  # noqa: S301 - the point of the test
    with pytest.raises(AssertionError, match="a hostile input ran"):
        _no_marker(tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_a_score_matrix_is_never_unpickled(tmp_path: Path, case: str) -> None:
    path, variable, message = _pickled(tmp_path)[case]
    with pytest.raises(InputError) as caught:
        join(_matrix_spec(_base(tmp_path), path, variable))
    assert caught.value.message.startswith(f"{path}: ")
    assert message in caught.value.message
    _no_marker(tmp_path)


def test_a_pickle_beside_the_chosen_variable_is_never_loaded(tmp_path: Path) -> None:
    scores = np.array([[0.25], [0.75]])
    np.savez(
        tmp_path / "mixed.npz",
        scores=scores,
        evil=np.array([Tripwire(tmp_path / MARKER)], dtype=object),
    )
    result = join(_matrix_spec(_base(tmp_path), tmp_path / "mixed.npz", "scores"))
    assert result.table.column("so_m_f1").to_pylist() == [0.25, 0.75]
    _no_marker(tmp_path)


def test_a_pickled_matrix_on_the_command_line_exits_2(tmp_path: Path) -> None:
    path, _, message = _pickled(tmp_path)["object.npy"]
    base = _base(tmp_path)
    result = cli(
        tmp_path,
        "join",
        "--features",
        base,
        "--key",
        "clip_id",
        "--sidecar",
        f"m={path}",
        "--align",
        f"m:{base}:clip_id",
        "-o",
        tmp_path / "o.csv",
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {path}: {message}")
    assert not (tmp_path / "o.csv").exists()
    _no_marker(tmp_path)


def test_matlab_objects_function_handles_and_links_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    with h5py.File(secret / "other.h5", "w") as handle:
        handle["data"] = np.full((2, 1), DECOY)
    scipy.io.savemat(
        tmp_path / "object.mat",
        {
            "scores": MatlabObject(np.array([[(np.ones((1, 2)),)]], dtype=[("x", "O")]), "evil.C"),
        },
    )
    v73 = write_mat73(tmp_path / "v73.mat", {"ok": np.ones((2, 1))})
    with h5py.File(v73, "a") as handle:
        handle.create_group("handle").attrs["MATLAB_class"] = np.bytes_(b"function_handle")
        handle["soft"] = h5py.SoftLink("/ok")
        handle["external"] = h5py.ExternalLink(str(secret / "other.h5"), "/data")
        layout = h5py.VirtualLayout(shape=(2, 1), dtype="f8")
        layout[:] = h5py.VirtualSource(str(secret / "other.h5"), "data", shape=(2, 1))
        handle.create_virtual_dataset("virtual", layout).attrs["MATLAB_class"] = np.bytes_(
            b"double"
        )
    base = _base(tmp_path)
    cases = [
        (tmp_path / "object.mat", "scores", "is a MATLAB object"),
        (v73, "handle", "is a function handle, not data"),
        (v73, "soft", "is a soft or external HDF5 link, which is not followed"),
        (v73, "external", "is a soft or external HDF5 link, which is not followed"),
        (v73, "virtual", ""),  # refused; its message: see the next test
    ]
    for path, variable, message in cases:
        with pytest.raises(InputError) as caught:
            join(_matrix_spec(base, path, variable))
        assert caught.value.message.startswith(f"{path}: variable {variable!r} ("), variable
        assert message in caught.value.message, variable
        assert str(DECOY) not in caught.value.message


def test_a_v73_virtual_dataset_is_refused_as_one(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle["data"] = np.full((2, 1), DECOY)
    path = write_mat73(tmp_path / "v73.mat", {"ok": np.ones((2, 1))})
    with h5py.File(path, "a") as handle:
        layout = h5py.VirtualLayout(shape=(2, 1), dtype="f8")
        layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "data", shape=(2, 1))
        handle.create_virtual_dataset("scores", layout).attrs["MATLAB_class"] = np.bytes_(b"double")
    with pytest.raises(InputError, match=r"v73\.mat: variable 'scores' .*virtual"):
        read_matrix(path, "scores")


def _external_storage(folder: Path) -> Path:
    """A v7.3 .mat whose variable's bytes are stored in another file (HDF5 external storage)."""
    secret = folder / "secret.bin"
    secret.write_bytes(np.full(2, DECOY).tobytes())
    path = folder / "external.mat"
    with h5py.File(path, "w", userblock_size=512) as handle:
        stored = handle.create_dataset(
            "scores", shape=(1, 2), dtype="<f8", external=[(str(secret), 0, 16)]
        )
        stored.attrs["MATLAB_class"] = np.bytes_(b"double")
    return path


def test_a_v73_mat_cannot_read_another_file_through_external_storage(tmp_path: Path) -> None:
    path = _external_storage(tmp_path)
    with pytest.raises(InputError, match=r"external\.mat: variable 'scores' .*external"):
        read_matrix(path, "scores")


def test_a_v73_sparse_matrix_cannot_read_another_file_through_a_link(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle["data"] = np.array([DECOY, DECOY])
    path = tmp_path / "sparse.mat"
    with h5py.File(path, "w", userblock_size=512) as handle:
        group = handle.create_group("scores")
        group.attrs["MATLAB_class"] = np.bytes_(b"double")
        group.attrs["MATLAB_sparse"] = np.uint64(2)
        group["data"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/data")
        group["ir"] = np.array([0, 1], dtype=np.uint64)
        group["jc"] = np.array([0, 2], dtype=np.uint64)
    with pytest.raises(InputError, match=r"sparse\.mat: variable 'scores' .*link"):
        read_matrix(path, "scores")


def _onnx_with_external_weight(path: Path, location: str) -> Path:
    """A 1-input saliency model (y = x · w) whose weight is stored at ``location``."""
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1, 1, 1, 1])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("length", "4")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, "h", "w"])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["y"])], "g", [x], [y], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("where", ["absolute", "parent"])
def test_an_onnx_model_cannot_read_weights_from_outside_its_folder(
    tmp_path: Path, where: str
) -> None:
    secret = tmp_path / "secret" / "w.bin"
    secret.parent.mkdir()
    secret.write_bytes(np.float32(DECOY).tobytes())
    (tmp_path / "model").mkdir()
    location = str(secret) if where == "absolute" else "../secret/w.bin"
    path = _onnx_with_external_weight(tmp_path / "model" / "m.onnx", location)
    with pytest.raises(InputError) as caught:
        SaliencyModel.load(path)
    assert caught.value.message.startswith(f"{path}: cannot load as an ONNX model (")
    assert "external data" in caught.value.message.lower()


# --- SQL in names, values and options ----------------------------------------------------------


def _sql(marker: Path | str) -> list[str]:
    """Text that would write ``marker`` if it reached DuckDB as SQL, in several quotings."""
    return [
        f"x'); COPY (SELECT 1) TO '{marker}'; --",
        f"x\"); COPY (SELECT 1) TO '{marker}'; --",
        f"x\" FROM range(1)); COPY (SELECT 1) TO '{marker}'; /*",
        f"x' || (SELECT 1) || '\n; COPY (SELECT 1) TO '{marker}' -- \\",
    ]


def test_sql_in_file_column_and_option_names_and_values_is_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key, score, frame, key-map and delta-base column names, key values, the prefix, and the
    input and output file names all hold SQL; the join reads and writes them as they are."""
    monkeypatch.chdir(tmp_path)  # a relative COPY target would land here
    marker = tmp_path / f"{MARKER}.csv"
    key, score, frame, side_key = _sql(marker)
    base_col = _sql(marker)[0].replace("x'", "v'")
    rows = [key, score, side_key]  # key values that are SQL too (the last holds a newline)
    file_sql = f"x'); COPY (SELECT 1) TO '{MARKER}.csv'; --"  # no '/' in file names
    base = write_table(
        tmp_path / f"{file_sql}base.csv", [{key: k, base_col: float(i)} for i, k in enumerate(rows)]
    )
    per_clip = write_table(
        tmp_path / f"{file_sql.replace(chr(39), chr(34))}.jsonl",
        [{side_key: k, score: 10.0 + i} for i, k in enumerate(rows)],
    )
    per_frame = write_table(
        tmp_path / f"{file_sql}frames.csv",
        [{key: k, frame: f, score: f + i} for i, k in enumerate(rows) for f in (1.0, 3.0)],
    )
    prefix = f"{key}_"
    spec = build_join_spec(
        features=base,
        key=[key],
        sidecars=[
            {
                "scorer": "a",
                "path": per_clip,
                "key_map": {side_key: key},
                "columns": [score],
                "prefix": prefix,
                "derived": [f"delta:{base_col}"],
            },
            {"scorer": "b", "path": per_frame, "frame_column": frame, "pool": ["mean"]},
        ],
    )
    output = tmp_path / f"{file_sql}out.jsonl"
    join_to_file(spec, output)
    got = read_rows(output)
    assert [list(r) for r in got] == [
        [
            key,
            base_col,
            f"{prefix}{score}",
            f"{prefix}{score}_delta_{base_col}",
            f"so_b_{score}_mean",
            "so_b_n_frames",
        ]
    ] * 3
    assert [(r[key], r[base_col], r[f"{prefix}{score}"], r[f"so_b_{score}_mean"]) for r in got] == [
        (key, 0.0, 10.0, 2.0),
        (score, 1.0, 11.0, 3.0),
        (side_key, 2.0, 12.0, 4.0),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [base.name, per_clip.name, per_frame.name, output.name]
    )
    _no_marker(tmp_path)


def test_sql_in_ingest_column_names_and_values_is_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    id_col, mos_col, kept, value = _sql(tmp_path / f"{MARKER}.csv")
    name = f"m'); COPY (SELECT 1) TO '{MARKER}.csv'; --"
    metadata = write_table(
        tmp_path / f"{name}.csv",
        [
            {id_col: value, mos_col: 2.5, kept: value},
            {id_col: "b", mos_col: 5.0, kept: "x"},
        ],
    )
    out = tmp_path / f"{name}.out.jsonl"
    ingest("generic", metadata, out, id_column=id_col, mos_column=mos_col, mos_scale=(0, 10))
    assert [(r["clip_id"], r["mos"], r[kept]) for r in read_rows(out)] == [
        (value, 2.5, value),
        ("b", 5.0, "x"),
    ]
    _no_marker(tmp_path)


def test_a_manifest_option_cannot_smuggle_another_file_into_the_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Options naming columns are identifiers, never SQL: a reader call in them is a column
    name that does not exist, reported with the columns that do."""
    monkeypatch.chdir(tmp_path)
    decoy = write_table(tmp_path / "decoy.csv", [{"clip_id": "DECOY", "score": DECOY}])
    read = f"read_csv('{decoy}')"
    copy = f"COPY (SELECT 1) TO '{tmp_path / MARKER}.csv'"
    write_table(tmp_path / "base.csv", [{"clip_id": "a", "mos": 1.0}])
    write_table(tmp_path / "side.csv", [{"clip_id": "a", "frame": 1, "score": 2.0}])
    smuggled: list[dict[str, Any]] = [
        {"key": [f'clip_id" FROM {read}; {copy}; --']},
        {"sidecar": {"columns": [f'score" FROM {read} --']}},
        {"sidecar": {"frame_column": f'frame", (SELECT * FROM {read}) --'}},
        {"sidecar": {"key_map": {f"clip_id' UNION SELECT * FROM {read} --": "clip_id"}}},
        {"sidecar": {"derived": [f'delta:mos" FROM {read}; {copy}; --']}},
    ]
    jobs = []
    for i, option in enumerate(smuggled):
        sidecar = {"scorer": "s", "path": "side.csv", **option.get("sidecar", {})}
        jobs.append(
            {
                "name": f"j{i}",
                "key": option.get("key", ["clip_id"]),
                "features": "base.csv",
                "sidecars": [sidecar],
                "output": f"j{i}.csv",
            }
        )
    manifest = _write_json(tmp_path / "m.json", {"version": 1, "output_dir": "out", "jobs": jobs})
    with pytest.raises(InputError) as caught:
        validate_manifest(manifest)
    problems = _problems(caught.value)
    base, side = tmp_path / "base.csv", tmp_path / "side.csv"
    assert [p.split(": ", 1)[0] for p in problems] == [f"jobs[{i}] (j{i})" for i in range(5)]
    expected = [
        f"{base}: key column {smuggled[0]['key'][0]!r} not found (columns: clip_id, mos)",
        f"{side}: score column {smuggled[1]['sidecar']['columns'][0]!r} not found",
        f"{side}: frame column {smuggled[2]['sidecar']['frame_column']!r} not found",
        f"{side}: key column {next(iter(smuggled[3]['sidecar']['key_map']))!r} not found",
        f"{base}: base column for delta {smuggled[4]['sidecar']['derived'][0][6:]!r} not found",
    ]
    for problem, start in zip(problems, expected, strict=True):
        assert problem.split(": ", 1)[1].startswith(start)
    assert "DECOY" not in caught.value.message
    assert str(DECOY) not in caught.value.message
    _no_marker(tmp_path)


def test_sql_in_scorer_and_job_names_is_refused(tmp_path: Path) -> None:
    write_table(tmp_path / "f.csv", [{"clip_id": "a", "mos": 1.0}])
    manifest = _write_json(
        tmp_path / "m.json",
        {
            "version": 1,
            "output_dir": "out",
            "defaults": {"key": ["clip_id"]},
            "jobs": [
                {
                    "name": "j'; DROP TABLE so_base; --",
                    "features": "f.csv",
                    "output": "o.csv",
                    "sidecars": [{"scorer": "s\"; COPY (SELECT 1) TO 'x'; --", "path": "f.csv"}],
                }
            ],
        },
    )
    with pytest.raises(InputError) as caught:
        load_manifest(manifest)
    problems = _problems(caught.value)
    assert any(p.startswith("jobs[0].name: String should match pattern") for p in problems)
    assert any(
        p.startswith("jobs[0].sidecars[0].scorer: scorer 's\"; COPY") and "is not a slug" in p
        for p in problems
    )


def test_sql_in_the_memory_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    limit = f"1GB'; COPY (SELECT 1) TO '{MARKER}.csv'; --"
    with pytest.raises(UsageError) as caught:
        connect(Engine(memory_limit=limit))
    assert caught.value.message.startswith(f"--memory-limit {limit!r}: DuckDB cannot use it (")
    _no_marker(tmp_path)


def test_a_column_pattern_cannot_look_up_attributes(tmp_path: Path) -> None:
    np.save(tmp_path / "m.npy", np.ones((2, 2)), allow_pickle=False)
    base = _base(tmp_path)
    sidecar = {
        "scorer": "m",
        "path": tmp_path / "m.npy",
        "columns": "f{i.__class__.__name__}{i}",
        "align": {"keys_from": base, "column": "clip_id"},
    }
    with pytest.raises(UsageError, match=r"columns pattern 'f\{i\.__class__\.__name__\}\{i\}'"):
        build_join_spec(features=base, key=["clip_id"], sidecars=[sidecar])


# --- reading only the named files: glob characters ---------------------------------------------


def _glob_folder(folder: Path) -> dict[str, Path]:
    """Files whose names hold glob characters, beside decoys each name would match as a glob."""
    folder.mkdir(exist_ok=True)
    named = {
        "base": write_table(
            folder / "x[1].csv", [{"clip_id": "a", "mos": 1.0}, {"clip_id": "b", "mos": 2.0}]
        ),
        "star": write_table(folder / "y*.csv", [{"clip_id": "a", "s": 0.5}]),
        "question": write_table(folder / "z?.jsonl", [{"clip_id": "b", "s": 0.25}]),
        "keys": write_table(folder / "k[ab].csv", [{"clip_id": "a"}, {"clip_id": "b"}]),
        "meta": write_table(
            folder / "meta[*].csv", [{"vid": "a", "score": 4.0}, {"vid": "b", "score": 2.0}]
        ),
    }
    for decoy in (
        "x1.csv",
        "yy.csv",
        "y.csv",
        "za.jsonl",
        "ka.csv",
        "kb.csv",
        "meta*.csv",
        "metax.csv",
    ):
        key = "vid" if decoy.startswith("meta") else "clip_id"
        write_table(
            folder / decoy,
            [
                {key: "a", "mos": DECOY, "s": DECOY, "score": DECOY},
                {key: "DECOY", "mos": DECOY, "s": DECOY, "score": DECOY},
            ],
        )
    np.save(folder / "m[1].npy", np.array([[0.125], [0.375]]), allow_pickle=False)
    np.save(folder / "m1.npy", np.array([[DECOY], [DECOY]]), allow_pickle=False)
    return named


def test_the_cli_join_reads_files_named_with_glob_characters_and_nothing_else(
    tmp_path: Path,
) -> None:
    named = _glob_folder(tmp_path / "d")
    out = tmp_path / "d" / "o[1].csv"
    result = cli(
        tmp_path,
        "join",
        "--features",
        named["base"],
        "--key",
        "clip_id",
        "--sidecar",
        f"y={named['star']}",
        "--sidecar",
        f"z={named['question']}",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    assert read_rows(out) == [
        {"clip_id": "a", "mos": 1.0, "so_y_s": 0.5, "so_z_s": None},
        {"clip_id": "b", "mos": 2.0, "so_y_s": None, "so_z_s": 0.25},
    ]
    assert not (tmp_path / "d" / "o1.csv").exists()


def test_a_batch_reads_files_named_with_glob_characters_and_nothing_else(tmp_path: Path) -> None:
    _glob_folder(tmp_path / "d")
    manifest = _write_json(
        tmp_path / "m.json",
        {
            "version": 1,
            "output_dir": "out[1]",
            "jobs": [
                {
                    "name": "join",
                    "key": ["clip_id"],
                    "features": "d/x[1].csv",
                    "output": "j[1].jsonl",
                    "sidecars": [
                        {"scorer": "y", "path": "d/y*.csv"},
                        {"scorer": "z", "path": "d/z?.jsonl"},
                        {
                            "scorer": "m",
                            "path": "d/m[1].npy",
                            "align": {"keys_from": "d/k[ab].csv", "column": "clip_id"},
                        },
                    ],
                },
                {
                    "name": "ingest",
                    "output": "i[*].jsonl",
                    "ingest": {
                        "preset": "generic",
                        "metadata": "d/meta[*].csv",
                        "id_column": "vid",
                        "mos_column": "score",
                        "mos_scale": [1, 5],
                    },
                    "sidecars": [{"scorer": "y", "path": "d/y*.csv"}],
                },
            ],
        },
    )
    result = cli(tmp_path, "batch", manifest, "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    out = tmp_path / "out[1]"
    assert read_rows(out / "j[1].jsonl") == [
        {"clip_id": "a", "mos": 1.0, "so_y_s": 0.5, "so_z_s": None, "so_m_f1": 0.125},
        {"clip_id": "b", "mos": 2.0, "so_y_s": None, "so_z_s": 0.25, "so_m_f1": 0.375},
    ]
    assert [(r["clip_id"], r["mos"], r["so_y_s"]) for r in read_rows(out / "i[*].jsonl")] == [
        ("a", 4.0, 0.5),
        ("b", 2.0, None),
    ]
    tables = [p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert sorted(n for n in tables if not n.endswith(".json")) == ["i[*].jsonl", "j[1].jsonl"]


@pytest.mark.parametrize(
    ("name", "decoy"), [("a\\x[1].csv", "a/x[1].csv"), ("x\\[1].csv", "x1.csv")]
)
def test_a_file_whose_name_holds_a_backslash_and_a_glob_character_is_that_file(
    tmp_path: Path, name: str, decoy: str
) -> None:
    """Read as it is, or refused naming the file and the backslash; never another file."""
    base = _base(tmp_path)
    (tmp_path / "a").mkdir()
    write_table(tmp_path / decoy, [{"clip_id": "c0", "s": DECOY}])
    side = write_table(tmp_path / name, [{"clip_id": "c0", "s": 0.5}])
    spec = build_join_spec(features=base, key=["clip_id"], sidecars=[{"scorer": "s", "path": side}])
    outcome: list[Any] | str
    try:
        outcome = join(spec).table.column("so_s_s").to_pylist()
    except InputError as exc:
        outcome = exc.message
    if isinstance(outcome, str):
        assert outcome.startswith(f"{side}: "), outcome
        assert "backslash" in outcome, outcome
    else:
        assert outcome == [0.5, None]


# --- reading only the named files: paths DuckDB would rewrite -----------------------------------


@pytest.mark.parametrize("form", ["tilde", "file-uri"])
def test_a_relative_path_names_the_file_python_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    work, home, secret = tmp_path / "work", tmp_path / "home", tmp_path / "secret"
    for folder in (work, home, secret):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    decoy = home / "x.csv" if form == "tilde" else secret / "x.csv"
    write_table(decoy, [{"clip_id": "c0", "s": DECOY}])
    relative = Path("~/x.csv") if form == "tilde" else Path(f"file:{decoy}")
    (work / relative).parent.mkdir(parents=True)
    write_table(work / relative, [{"clip_id": "c0", "s": 0.5}])
    base = _base(work)
    output = Path("~/o.jsonl") if form == "tilde" else Path(f"file:{secret}/o.jsonl")
    spec = build_join_spec(
        features=base, key=["clip_id"], sidecars=[{"scorer": "s", "path": relative}]
    )
    assert join(spec).table.column("so_s_s").to_pylist() == [0.5, None]  # not the decoy's
    (work / output).parent.mkdir(parents=True, exist_ok=True)
    join_to_file(spec, output)
    assert [r["so_s_s"] for r in read_rows(work / output)] == [0.5, None]
    assert [p.name for p in decoy.parent.iterdir()] == ["x.csv"]  # nothing written beside it


# --- reading only the named files: URLs and the network ----------------------------------------

URLS = [
    "{url}/features.csv",
    "https://127.0.0.1:{port}/features.parquet",
    "s3://bucket/features.csv",
    "gcs://bucket/features.parquet",
    "hf://datasets/org/set/features.jsonl",
    "az://container/features.csv",
    "file://{tmp}/decoy.csv",
]


def test_urls_in_a_manifest_are_local_paths_never_fetched(
    watched: Recorder, tmp_path: Path
) -> None:
    write_table(tmp_path / "decoy.csv", [{"clip_id": "a", "mos": DECOY}])
    write_table(tmp_path / "side.csv", [{"clip_id": "a", "s": 1.0}])
    urls = [u.format(url=watched.url, port=watched.port, tmp=tmp_path) for u in URLS]
    jobs: list[dict[str, Any]] = [
        {
            "name": f"features{i}",
            "key": ["clip_id"],
            "features": url,
            "output": f"f{i}.csv",
            "sidecars": [{"scorer": "s", "path": "side.csv"}],
        }
        for i, url in enumerate(urls)
    ]
    jobs += [
        {
            "name": "sidecar",
            "key": ["clip_id"],
            "features": "side.csv",
            "output": "s.csv",
            "sidecars": [
                {"scorer": "s", "path": f"{watched.url}/s.csv"},
                {
                    "scorer": "m",
                    "path": "m.npy",
                    "align": {"keys_from": f"{watched.url}/k.csv", "column": "clip_id"},
                },
            ],
        },
        {
            "name": "ingest",
            "output": "i.csv",
            "ingest": {"preset": "konvid-1k", "metadata": f"{watched.url}/meta.csv"},
            "sidecars": [{"scorer": "s", "path": "side.csv"}],
        },
        {
            "name": "saliency",
            "kind": "saliency",
            "output": "sal.csv",
            "clips": f"{watched.url}/clips.csv",
            "model": f"{watched.url}/m.onnx",
        },
    ]
    np.save(tmp_path / "m.npy", np.ones((1, 1)), allow_pickle=False)
    manifest = _write_json(tmp_path / "m.json", {"version": 1, "output_dir": "out", "jobs": jobs})
    with pytest.raises(InputError) as caught:
        validate_manifest(manifest)

    def local(text: str) -> str:
        return os.path.normpath(tmp_path / text)

    problems = _problems(caught.value)
    expected = [f"jobs[{i}].features: no such file: {local(u)}" for i, u in enumerate(urls)]
    n = len(urls)
    expected += [
        f"jobs[{n}].sidecars[0].path: no such file: {local(watched.url + '/s.csv')}",
        f"jobs[{n}].sidecars[1].align.keys_from: no such file: {local(watched.url + '/k.csv')}",
        f"jobs[{n + 1}].ingest.metadata: no such file: {local(watched.url + '/meta.csv')}",
        f"jobs[{n + 2}].clips: no such file: {local(watched.url + '/clips.csv')}",
        f"jobs[{n + 2}].model: no such file: {local(watched.url + '/m.onnx')}",
    ]
    assert sorted(problems) == sorted(expected)
    assert watched.untouched(), watched
    assert not (tmp_path / "extensions").exists()


@pytest.mark.parametrize("command", ["join", "ingest"])
def test_urls_on_the_command_line_are_local_paths_never_fetched(
    server: Recorder, tmp_path: Path, command: str
) -> None:
    url = f"{server.url}/t.csv"
    local = url.replace("//", "/")  # what the path is: a relative local path
    args: dict[str, list[str | Path]] = {
        "join": [
            "join",
            "--features",
            url,
            "--key",
            "clip_id",
            "--sidecar",
            "s=s3://b/s.csv",
            "-o",
            tmp_path / "o.csv",
        ],
        "ingest": ["ingest", "konvid-1k", url, "-o", tmp_path / "o.csv"],
    }
    result = cli(tmp_path, *args[command], server=server)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {local}: no such file"
    assert server.untouched(), server
    assert not (tmp_path / "_ext").exists()
    assert not (tmp_path / "o.csv").exists()


def _sqlite_bytes(folder: Path) -> bytes:
    path = folder / "_real.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (clip_id TEXT, mos REAL)")
        db.execute("INSERT INTO t VALUES ('a', 1.0)")
        db.commit()
    data = path.read_bytes()
    path.unlink()
    return data


def _xlsx_bytes() -> bytes:
    import io  # noqa: PLC0415

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


EXTENSION_SUFFIXES = [
    ".xlsx",
    ".sqlite",
    ".db",
    ".duckdb",
    ".arrow",
    ".avro",
    ".xml",
    ".csv.zst",
    ".parquet.gz",
    ".gpkg",
    ".ipc",
    ".feather",
    ".txt",
]


def test_files_that_need_a_duckdb_extension_are_refused_without_installing_one(
    watched: Recorder, tmp_path: Path
) -> None:
    """Suffixes another DuckDB reader (or extension) handles are refused by name; content of
    another format under a supported suffix is refused as unreadable. No extension is loaded."""
    sqlite, xlsx = _sqlite_bytes(tmp_path), _xlsx_bytes()
    write_table(tmp_path / "side.csv", [{"clip_id": "a", "s": 1.0}])
    features = []
    for suffix in EXTENSION_SUFFIXES:
        path = tmp_path / f"t{suffix}"
        path.write_bytes(xlsx if suffix == ".xlsx" else sqlite)
        features.append(path.name)
    disguised = {
        "sqlite.csv": (sqlite, "not UTF-8 text"),
        "xlsx.parquet": (xlsx, "not a readable parquet file"),
        "sqlite.jsonl": (sqlite, "not UTF-8 text"),
        "sqlite.json": (sqlite, "not UTF-8 text"),
    }
    for name, (content, _) in disguised.items():
        (tmp_path / name).write_bytes(content)
    names = [*features, *disguised]
    jobs = [
        {
            "name": f"j{i}",
            "key": ["clip_id"],
            "features": name,
            "output": f"o{i}.csv",
            "sidecars": [{"scorer": "s", "path": "side.csv"}],
        }
        for i, name in enumerate(names)
    ]
    manifest = _write_json(tmp_path / "m.json", {"version": 1, "output_dir": "out", "jobs": jobs})
    with pytest.raises(InputError) as caught:
        validate_manifest(manifest)
    problems = _problems(caught.value)
    assert len(problems) == len(names)
    for i, (name, problem) in enumerate(zip(names, problems, strict=True)):
        place = re.escape(f"jobs[{i}] (j{i}): {tmp_path / name}")
        assert re.match(rf"{place}( line \d+)?: ", problem), problem
        if name in features:
            suffix = name.removeprefix("t")
            assert f"unsupported file type {suffix!r}; use .jsonl, .ndjson" in problem
        else:
            assert disguised[name][1] in problem
    assert watched.untouched(), watched
    assert not (tmp_path / "extensions").exists()


def test_an_excel_file_on_the_command_line_is_refused_without_installing_an_extension(
    server: Recorder, tmp_path: Path
) -> None:
    (tmp_path / "t.xlsx").write_bytes(_xlsx_bytes())
    side = write_table(tmp_path / "side.csv", [{"clip_id": "a", "s": 1.0}])
    result = cli(
        tmp_path,
        "join",
        "--features",
        "t.xlsx",
        "--key",
        "clip_id",
        "--sidecar",
        f"s={side}",
        "-o",
        "o.csv",
        server=server,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: t.xlsx: unsupported file type '.xlsx'; use .jsonl")
    assert server.untouched(), server
    assert not (tmp_path / "_ext").exists()


# --- reading only the named files: variables and ~ in manifest paths ---------------------------


def test_manifest_paths_expand_only_what_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/manifest.md, Paths: a leading ``~`` is the home folder and ``${VAR}`` (braced, or
    ``${VAR:-default}``) is the environment variable; ``$VAR``, ``%VAR%``, a ``~`` inside a path
    and ``${ VAR }`` stay as written. ``${output_dir}`` is the output folder; an input is not
    confined to it, so ``${output_dir}/../x.csv`` is the file beside the output folder."""
    folder, home, data = tmp_path / "m", tmp_path / "home", tmp_path / "data"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SO_TEST_DATA", str(data))
    monkeypatch.delenv("SO_TEST_UNSET", raising=False)
    expected = {
        "$HOME/x.csv": folder / "$HOME" / "x.csv",
        "$SO_TEST_DATA/x.csv": folder / "$SO_TEST_DATA" / "x.csv",
        "%HOME%/x.csv": folder / "%HOME%" / "x.csv",
        "sub/~/x.csv": folder / "sub" / "~" / "x.csv",
        "${ SO_TEST_DATA }/x.csv": folder / "${ SO_TEST_DATA }" / "x.csv",
        "${SO_TEST_DATA}/x.csv": data / "x.csv",
        "${SO_TEST_UNSET:-fallback}/x.csv": folder / "fallback" / "x.csv",
        "~/x.csv": home / "x.csv",
        "${output_dir}/../beside.csv": folder / "beside.csv",
        "${output_dir}/x.csv": folder / "out" / "x.csv",
    }
    for path in {*expected.values(), folder / "side.csv"}:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(path, [{"clip_id": "a", "mos": 1.0}])
    jobs = [
        {
            "name": f"j{i}",
            "key": ["clip_id"],
            "features": text,
            "output": f"o{i}.csv",
            "sidecars": [{"scorer": "s", "path": "side.csv", "columns": ["mos"]}],
        }
        for i, text in enumerate(expected)
    ]
    manifest = load_manifest(
        _write_json(folder / "m.json", {"version": 1, "output_dir": "out", "jobs": jobs})
    )
    resolved = {
        text: job.spec.features for text, job in zip(expected, manifest.join_jobs(), strict=True)
    }
    assert resolved == expected


def test_the_output_folder_in_an_input_path_is_not_expanded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SO_TEST_DECOY", "decoy")
    out_dir = tmp_path / "o${SO_TEST_DECOY}"
    for folder, value in ((out_dir, 0.5), (tmp_path / "odecoy", DECOY)):
        folder.mkdir()
        write_table(folder / "s.csv", [{"clip_id": "a", "s": value}])
    write_table(tmp_path / "f.csv", [{"clip_id": "a", "mos": 1.0}])
    manifest = _write_json(
        tmp_path / "m.json",
        {
            "version": 1,
            "output_dir": "out",
            "jobs": [
                {
                    "name": "j",
                    "key": ["clip_id"],
                    "features": "f.csv",
                    "output": "j.csv",
                    "sidecars": [{"scorer": "s", "path": "${output_dir}/s.csv"}],
                }
            ],
        },
    )
    job = load_manifest(manifest, out_dir=out_dir).join_jobs()[0]
    assert job.spec.sidecars[0].path == out_dir / "s.csv"
