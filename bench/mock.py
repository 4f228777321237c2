"""The reference server as a separate process, and what it costs while loaded.

The server runs in a process of its own so that its CPU and memory are its
own: they are read from ``/proc``, apart from the load generator's.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any, Self

READY_TIMEOUT = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_PREFIX = "dfns-mock listening on "


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads) so far."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid: int) -> int:
    """Peak resident memory (``VmHWM``) of a live process; 0 if the kernel does not say."""
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class CpuMeter:
    """Wall time of a ``with`` block and the share of one core a process used in it.

    One meter serves every load generator, so that their server CPU is measured
    over the same span as their requests.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.wall = float("nan")
        self.cpu = float("nan")

    def __enter__(self) -> Self:
        self._cpu0 = cpu_seconds(self.pid)
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = cpu_seconds(self.pid) - self._cpu0

    @property
    def share(self) -> float:
        """CPU / wall time: 1.0 is one core kept busy for the whole block."""
        return self.cpu / self.wall


def _mock_command() -> list[str]:
    """The installed ``dfns-mock`` script next to this Python, else its module."""
    script = Path(sys.executable).with_name("dfns-mock")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dfns_contract.server.cli"]


def _file_limit(limit: int) -> Callable[[], None]:
    """Run in the child before ``exec``: at most ``limit`` open files (the hard limit stays)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


class Mock:
    """``dfns-mock --port 0`` as a separate process; ready when it prints its URL.

    ``url`` and ``profile`` (the seeded app, token and credential) are known once
    the constructor returns; ``stop`` (or leaving the ``with`` block) ends it.
    """

    def __init__(self, *options: str, file_limit: int | None = None) -> None:
        """``options``: more ``dfns-mock`` options; ``file_limit``: its open-file limit (the slow-connection check)."""
        self.dir = tempfile.mkdtemp(prefix="dfns-bench-")
        profile_path = os.path.join(self.dir, "profile.json")
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*_mock_command(), "--port", "0", "--profile-out", profile_path, *options],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            preexec_fn=_file_limit(file_limit) if file_limit else None,
        )
        try:
            self.url = self._wait_ready()
            with open(profile_path) as handle:
                self.profile: dict[str, Any] = json.load(handle)
        except BaseException:
            self.stop()
            raise

    def stderr_text(self) -> str:
        self.stderr.flush()
        with open(os.path.join(self.dir, "stderr.log"), "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def _wait_ready(self) -> str:
        """The URL from the server's first line, read with a deadline (no sleep-and-poll)."""
        line = self._first_line().decode()
        if not line.startswith(READY_PREFIX):
            raise RuntimeError("unexpected first line from dfns-mock: %r" % line)
        return line[len(READY_PREFIX) :].strip()

    def _first_line(self) -> bytes:
        """Bytes of stdout up to the first newline, or an error at READY_TIMEOUT or exit."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(
                        "dfns-mock did not report ready within %.0f s" % READY_TIMEOUT
                    )
                if selector.select(left):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        raise RuntimeError("dfns-mock exited before it was ready (see its stderr)")
                    buffer += chunk
        return buffer.split(b"\n", 1)[0]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_meter(self) -> CpuMeter:
        """A meter of the server's CPU over a ``with`` block (see ``CpuMeter``)."""
        return CpuMeter(self.pid)

    def peak_rss_mib(self) -> float:
        """The server's peak resident memory so far, in MiB."""
        return peak_rss_kib(self.pid) / 1024

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; closes the pipes and removes the temp dir."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
