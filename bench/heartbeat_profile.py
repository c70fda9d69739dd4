"""Where a heartbeat's CPU goes: py-spy samples the bench server (bench/noop_target.py, the
real presence entry point) while the presence benchmark's clients send heartbeats, and the
hottest frames are printed — self time (the frame itself) and inclusive time (the frame and
everything it calls), each as a share of all samples of the server's request threads.

    python -m bench.heartbeat_profile [seconds]     # py-spy on PATH (pip install py-spy)

PROFILE_RAW=<file> keeps py-spy's raw (collapsed) stacks, e.g. for a flame graph.

Not part of `nox -s bench` (it needs ptrace); docs/performance.md records what it showed.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import presence
from devstack.servers import free_port
from devstack.stack import REPO_ROOT, LocalStack, Ports, StackOptions

TOP = 25
# Frames of samples that are not a warm heartbeat: the set-up's presence toggles and the
# imports of first use (paid once per process, reported by bench/coldstart.py instead).
_NOT_A_HEARTBEAT = ("set_presence (", "Mitra.__call__ (", "_find_and_load (")


def _profiled_server(stack: LocalStack, raw: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The bench server (as bench/presence.py starts it) under `py-spy record`: attaching to
    a running process needs more ptrace rights than starting one."""
    reference = presence._start_bench_server(stack)  # only for its argv and environment
    reference.stop()
    port = free_port()
    spy = shutil.which("py-spy") or "py-spy"
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--subprocesses",
            "--nonblocking",
            "--gil",
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--",
            sys.executable,
            "-m",
            "functions_framework",
            *reference._argv,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=reference._env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/__bench/counters", timeout=1).read()  # noqa: S310
            return process, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the profiled server did not start")


def _summary(raw: Path) -> str:
    """Self and inclusive shares of the frames seen in request-handling stacks."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "dispatch (" not in stack or any(skip in stack for skip in _NOT_A_HEARTBEAT):
            continue  # idle loops, the set-up's other requests, first-use imports
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"samples in request threads: {total}", "", "self %  frame"]
    lines += [f"{100 * n / total:5.1f}  {frame}" for frame, n in own.most_common(TOP)]
    lines += ["", "incl %  frame"]
    lines += [f"{100 * n / total:5.1f}  {frame}" for frame, n in inclusive.most_common(TOP * 2)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    """`fn (path/to/module.py:12)` → `fn (module.py)`: lines differ per sample, files don't."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if parts else path
    return f"{name} ({short})"


def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="halo-profile-") as data_dir:
        stack = LocalStack(
            StackOptions(
                data_dir=Path(data_dir),
                ports=Ports(*(free_port() for _ in range(9))),
                environment="bench",
                sweep_interval_s=0,
                settings_cache_s=5,
                extra_env={"LOG_LEVEL": "WARNING"},
            )
        )
        stack.start()
        os.environ.update(stack.env())
        try:
            presence._use_stack(stack)
            raw = Path(os.environ.get("PROFILE_RAW", Path(data_dir) / "profile.txt"))
            process, url = _profiled_server(stack, raw)
            try:
                tokens = presence._online_mitras(stack, url)
                path = "/api/mitra/presence/heartbeat"
                rate = presence._phase(url, "POST", path, tokens, seconds=seconds)
            finally:
                os.killpg(process.pid, signal.SIGINT)  # py-spy writes its samples on SIGINT
                process.wait(timeout=60)
            print(f"heartbeats/s while sampled: {rate:.0f}\n")
            print(_summary(raw))
        finally:
            stack.stop()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
