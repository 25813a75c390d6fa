"""second-opinion: join scorer sidecars onto video-quality corpus tables.

The public API::

    from second_opinion import JoinSpec, SidecarSpec, join, join_to_file

    spec = JoinSpec(
        features="corpus.csv",
        key=["clip_id"],
        sidecars=[SidecarSpec(scorer="niqe", path="niqe.jsonl", key_map={"video": "clip_id"})],
    )
    result = join(spec)            # result.table (pyarrow.Table), result.coverage
"""

from __future__ import annotations

from second_opinion._version import __version__
from second_opinion.coverage import Coverage, UnmatchedKey
from second_opinion.errors import (
    InputError,
    InternalError,
    PolicyError,
    SecondOpinionError,
    UsageError,
)
from second_opinion.join import JoinReport, JoinResult, join, join_to_file
from second_opinion.keys import normalize_key
from second_opinion.spec import JoinSpec, SidecarSpec

__all__ = [
    "Coverage",
    "InputError",
    "InternalError",
    "JoinReport",
    "JoinResult",
    "JoinSpec",
    "PolicyError",
    "SecondOpinionError",
    "SidecarSpec",
    "UnmatchedKey",
    "UsageError",
    "__version__",
    "join",
    "join_to_file",
    "normalize_key",
]
