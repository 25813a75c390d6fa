"""The docs stay true: every command is documented, README set-up commands are the CI's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from second_opinion.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    return sorted(c.name or "" for c in app.registered_commands)


def test_every_command_has_help_text_and_a_section_in_cli_md() -> None:
    cli_md = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in _commands():
        result = subprocess.run(
            [sys.executable, "-m", "second_opinion", name, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Usage: second-opinion" in result.stdout
        assert re.search(rf"^## {name}$", cli_md, re.MULTILINE), f"docs/cli.md lacks '## {name}'"


def test_readme_gives_exactly_two_setup_commands_that_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- setup:begin -->")[1].split("<!-- setup:end -->")[0]
    commands = [line for line in block.splitlines() if line.startswith("python3 ")]
    assert len(commands) == 2
    assert "second-opinion" in commands[0]
    assert commands[1].endswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "setup:begin" in ci


def test_docs_link_to_files_that_exist() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
