"""The Makefile's `make run` environment, read from the Makefile itself (for the tests that
check it and the browser test that starts a stack exactly like `make run`)."""

import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_sim_env(**overrides: str) -> dict[str, str]:
    """The Makefile's SIM_ENV (with overrides such as SIM=…, SIM_AWS=…) as a dict."""
    printed = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "print-sim-env: ; @echo $(SIM_ENV)",
            "print-sim-env",
            *(f"{name}={value}" for name, value in overrides.items()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(item.split("=", 1) for item in shlex.split(printed))


def as_env(value) -> str:
    """A setting as the environment spells it."""
    return "true" if value is True else "false" if value is False else str(value)
