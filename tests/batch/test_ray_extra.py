"""Without Ray (the 'ray' extra), ``--executor ray`` is refused naming the extra to install.

Kept apart from test_ray_executor.py, which needs Ray installed (and is marked ``ray``): this
one needs it absent, and runs everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from second_opinion.errors import MissingExtraError
from tests._extras import hide_modules
from tests._scaffold import Scaffold

MESSAGE = (
    "--executor ray needs the optional dependency 'ray', which is not installed; "
    "install it with: pip install 'second-opinion[ray]'"
)


def test_without_ray_installed_the_executor_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    hide_modules(monkeypatch, "ray")
    with pytest.raises(MissingExtraError) as caught:
        scaffold.run(executor="ray")
    assert caught.value.message == MESSAGE
    assert (caught.value.extra, caught.value.module, caught.value.exit_code) == ("ray", "ray", 2)
    assert not scaffold.out.exists()
