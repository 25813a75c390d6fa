"""One table's materializer settings as the original reads them: its ``defaults`` merged under
the table's own fields, each value type-checked and remembered with where it was written.

The fields and their defaults are the original's (``SaliencyMaterializeConfig``): a field a
manifest does not set has the original's default, and messages say so.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FIELD_DEFAULTS: Mapping[str, object] = {
    "path_column": "src",
    "width_column": "width",
    "height_column": "height",
    "root": None,
    "ffmpeg_bin": "ffmpeg",
    "ffprobe_bin": "ffprobe",
    "model_path": None,
    "model_id": None,
    "max_frames": 8,
    "frame_samples": 8,
    "temporal_aggregator": "mean",
    "ema_alpha": 0.6,
    "overwrite": False,
    "status_column": "saliency_status",
    "model_id_column": "saliency_model_id",
    "aggregator_column": "saliency_aggregator",
    "ema_alpha_column": "saliency_ema_alpha",
    "default_width": 0,
    "default_height": 0,
}
"""The original materializer's settings and their defaults, in its order."""

TABLE_FIELDS = ("id", "input", "output", "audit_json")
"""A table entry's own fields, besides any setting."""

PATH_FIELDS = ("root", "model_path")
"""Settings that are paths: relative ones are read from the manifest's folder (or base_dir)."""

_OPTIONAL_TEXT = ("root", "model_path", "model_id")
_INTEGERS = ("max_frames", "frame_samples", "default_width", "default_height")


@dataclass(frozen=True)
class Setting:
    """A setting's value and where it comes from: ``tables[1].max_frames``,
    ``defaults.max_frames``, or the original's default (``given`` false)."""

    value: object
    where: str
    given: bool

    def described(self) -> str:
        """The setting for a message: ``tables[0].max_frames is 4`` (or not set, with the
        original's default)."""
        shown = str(self.value) if isinstance(self.value, Path) else self.value
        if self.given:
            return f"{self.where} is {shown!r}"
        return f"{self.where} is not set (the original's default: {shown!r})"


@dataclass(frozen=True)
class OriginalConfig:
    """One table's settings, every field of :data:`FIELD_DEFAULTS` present; path settings are
    resolved (absolute) :class:`Path` objects or ``None``."""

    settings: Mapping[str, Setting]

    def __getitem__(self, name: str) -> Setting:
        return self.settings[name]

    def value(self, name: str) -> object:
        """The setting's value."""
        return self.settings[name].value

    def path(self, name: str) -> Path | None:
        """A path setting (``root``, ``model_path``)."""
        value = self.settings[name].value
        return value if isinstance(value, Path) else None

    def integer(self, name: str) -> int:
        """An integer setting (``max_frames``, ``frame_samples``, …)."""
        value = self.settings[name].value
        return value if isinstance(value, int) else int(str(value))

    def payload(self) -> dict[str, object]:
        """The settings as the original's report lists them (paths as text)."""
        return {
            name: str(s.value) if isinstance(s.value, Path) else s.value
            for name, s in self.settings.items()
        }


def unknown_fields(
    data: Mapping[str, object], allowed: tuple[str, ...], at: str, problems: list[str]
) -> None:
    """Add a problem for each key of ``data`` the original does not know (with a did-you-mean)."""
    for key in data:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(
            f"{at}.{key}: not a field of the original's saliency manifest (the materializer "
            f"would refuse it too){hint}"
        )


def read_config(
    defaults: Mapping[str, object],
    table: Mapping[str, object],
    *,
    index: int,
    base_dir: Path,
    problems: list[str],
) -> OriginalConfig:
    """The settings of ``tables[index]``: its own value, else the default's, else the
    original's; a value of the wrong type is a problem (and the original's default is used)."""
    settings: dict[str, Setting] = {}
    for name, default in FIELD_DEFAULTS.items():
        if name in table:
            where, value, given = f"tables[{index}].{name}", table[name], True
        elif name in defaults:
            where, value, given = f"defaults.{name}", defaults[name], True
        else:
            where, value, given = f"tables[{index}].{name}", default, False
        problem = _type_problem(name, value)
        if problem is not None:
            problems.append(f"{where}: {value!r} is {problem}")
            value, given = default, False
        if name in PATH_FIELDS and value not in (None, ""):
            value = resolve(str(value), base_dir)
        elif name in PATH_FIELDS:
            value = None
        settings[name] = Setting(value, where, given)
    return OriginalConfig(settings)


def resolve(text: str, base_dir: Path) -> Path:
    """A manifest path, as the original resolves it: absolute, or relative to ``base_dir``."""
    path = Path(text)
    return Path(os.path.normpath(path if path.is_absolute() else base_dir / path))


def _type_problem(name: str, value: object) -> str | None:
    """What is wrong with the type of ``value`` for the setting ``name``, or ``None``."""
    if name in _OPTIONAL_TEXT:
        ok, wanted = value is None or isinstance(value, str), "text or null"
    elif name in _INTEGERS:
        ok, wanted = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif name == "ema_alpha":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        wanted = "a number"
    elif name == "overwrite":
        ok, wanted = isinstance(value, bool), "true or false"
    else:
        ok, wanted = isinstance(value, str), "text"
    return None if ok else f"{_kind(value)}; {name} must be {wanted}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"
