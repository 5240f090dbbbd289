"""`trialbot run` as a real process, for end-to-end tests that talk to it over the fakes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def this_checkout(env: dict[str, str]) -> dict[str, str]:
    """The environment with this checkout first on the path: the virtualenv may have the
    project installed from another worktree, whose code (and migrations) would run instead."""
    return {"PYTHONPATH": str(CHECKOUT)} | env


class Service:
    """One `trialbot run` process."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.log = open(cwd / f"service-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run"],
            env=this_checkout(env),
            cwd=str(cwd),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text()

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()
