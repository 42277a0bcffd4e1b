"""The import rules of pyproject.toml's [tool.importlinter] hold: the layers of incidents and
rotation, no import loops among their modules, and the app rules of ARCHITECTURE.md
(audit imports no app of ours; integrations knows no domain; vouchers and campaigns never
import incidents). `lint-imports` reads the source, so this test needs no database."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
