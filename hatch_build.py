"""Build hook: compile the SVR solver extension (src/second_opinion/audit/_smo.c).

The extension is optional: where no C compiler is found, or compiling fails, the package is
built without it and the audit uses scikit-learn's libsvm, with the same numbers, more slowly
(docs/adr/0025-own-smo-solver.md). ``-ffp-contract=off``: no fused multiply-adds, so every
expression rounds as libsvm's does.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/second_opinion/audit/_smo.c")
FLAGS = ["-O3", "-ffp-contract=off", "-fno-strict-aliasing", "-fPIC", "-shared", "-std=c99"]


class SolverBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles the extension beside its source, then ships it in the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        target = root / SOURCE.with_name("_smo" + sysconfig.get_config_var("EXT_SUFFIX"))
        if os.environ.get("SECOND_OPINION_NO_EXTENSION"):
            return
        compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
        command = [
            *compiler,
            *FLAGS,
            f"-I{sysconfig.get_paths()['include']}",
            str(root / SOURCE),
            "-o",
            str(target),
            "-lm",
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            print(  # noqa: T201 - the build's own log
                f"second-opinion: the SVR solver extension was not built ({detail.strip()}); "
                "the audit will use scikit-learn's libsvm (the same numbers, slower)",
                file=sys.stderr,
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            relative = target.relative_to(root / "src").as_posix()
            build_data["force_include"][str(target)] = relative
