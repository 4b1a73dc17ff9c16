"""Real ``posrefund serve`` processes for the probes that need a real server: a free port, the test's
settings in the environment, waiting for /healthz, and the processes' children read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from posrefund.config import Settings

SRC = str(Path(__file__).resolve().parents[2] / "src")


def serve(settings: Settings, port: int, *args: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PYTHONPATH": SRC,
        "POSREFUND_DATABASE_URL": settings.database_url,
        "POSREFUND_SECRET_KEY": settings.secret_key,
        "POSREFUND_PII_KEY": settings.pii_key,
        "POSREFUND_DATA_DIR": str(settings.data_dir),
        "POSREFUND_LOG_FILE": str(settings.log_file),
        **env,
    }
    command = [sys.executable, "-m", "posrefund.entrypoints.cli.main", "serve", "--port", str(port), *args]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_healthy(port: int, within: float = 60.0) -> float:
    """Seconds until /healthz answered 200; fails after ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no healthy server on port {port} after {within} s")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped by whoever adopted it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(*pids: int) -> None:
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
