"""The matcher's training runs in a child process.

Why: importing scikit-learn (liblinear) and scipy.optimize costs about 75 MB resident that
a serving process would keep for good, though it only trains when the KB loads or changes
(docs/benchmarks.md#memory). The child is started on the first training, serves the ones
that follow, and exits after `IDLE_SECONDS` without work, so an idle gateway holds none of
it. Jobs are pure functions of their arguments (module-level functions of this package,
sent by name with pickled arguments), so a job whose child died is simply run again in a
new one.

Linux niceness is per thread and a child starts with its starter's: one child per
niceness, so the hot reload's low-priority full rebuild trains at low priority too.

    python -m knowledge_base.trainer   # the child's side: jobs on stdin, results on stdout
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

#: A child with no job for this long exits (the next training starts one again, ~1 s).
IDLE_SECONDS = 60.0
_HEADER = struct.Struct("!Q")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])

T = TypeVar("T")


class TrainerError(RuntimeError):
    """The training child died during a job, in a new child too."""


def run(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in the training child of the calling thread's niceness."""
    return _trainer().run(function, *args)


#: One trainer per thread niceness (see the module docstring).
_trainers: dict[int, _Trainer] = {}
_lock = threading.Lock()


def _trainer() -> _Trainer:
    niceness = _niceness()
    with _lock:
        found = _trainers.get(niceness)
        if found is None:
            found = _trainers[niceness] = _Trainer()
        return found


def _niceness() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (OSError, AttributeError):
        return 0


class _Trainer:
    """One child process, one job at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None

    def run(self, function: Callable[..., T], *args: Any) -> T:
        job = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            for attempt in (1, 2):  # the child may have just exited for idleness
                child = self._started()
                try:
                    _write(child.stdin, job)
                    answer = _read(child.stdout)
                except (OSError, EOFError) as error:
                    self._stop()
                    if attempt == 2:
                        raise TrainerError(f"the training process failed: {error!r}") from error
                    continue
                ok, result = pickle.loads(answer)
                if not ok:
                    raise result
                return result  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    def _started(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is not None:
            self._stop()  # it went idle (or died): its pipes are closed here
        if self._child is None:
            path = os.environ.get("PYTHONPATH")
            env = {**os.environ,
                   "PYTHONPATH": os.pathsep.join([_PACKAGE_ROOT, *([path] if path else [])])}
            self._child = subprocess.Popen(
                [sys.executable, "-m", "knowledge_base.trainer", str(IDLE_SECONDS)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=_PACKAGE_ROOT)
            # reaped as soon as it exits for idleness (else a zombie until the next job)
            threading.Thread(target=self._child.wait, name="kb-trainer-reaper",
                             daemon=True).start()
        return self._child

    def _stop(self, grace: float = 0.0) -> None:
        """End the child: its input closed (it exits at once when idle), killed after
        `grace` seconds; its pipes closed."""
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()

    def close(self) -> None:
        with self._lock:
            self._stop(grace=5.0)


def _write(stream: IO[bytes] | None, payload: bytes) -> None:
    if stream is None:
        raise EOFError("no pipe")
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read(stream: IO[bytes] | None) -> bytes:
    if stream is None:
        raise EOFError("no pipe")
    return _exactly(stream, _HEADER.unpack(_exactly(stream, _HEADER.size))[0])


def _exactly(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side of the training pipe closed it")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


@atexit.register
def _close_all() -> None:
    with _lock:
        trainers = list(_trainers.values())
    for trainer in trainers:
        trainer.close()


def _serve(idle: float) -> None:
    """The child: run jobs until the input ends or stays `idle` seconds without a job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C is the parent's to handle
    jobs = os.fdopen(os.dup(0), "rb", buffering=0)  # select sees every byte not yet read
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a print in a library must not corrupt the answers
    # Imported before any job: a job's threads importing scikit-learn for the first time at
    # once get a partially initialised module.
    for module in ("scipy.optimize", "sklearn.model_selection", "sklearn.svm"):
        importlib.import_module(module)
    while True:
        ready, _, _ = select.select([jobs], [], [], idle)
        if not ready:
            return
        try:
            function, args = pickle.loads(_read(jobs))
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (True, function(*args))
        except Exception as error:  # the caller raises it
            answer = (False, error)
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an answer pickle cannot carry; this module is __main__
            payload = pickle.dumps((False, RuntimeError(f"unpicklable answer: {error!r}")))
        try:
            _write(results, payload)
        except OSError:  # the parent is gone
            return


if __name__ == "__main__":
    _serve(float(sys.argv[1]) if len(sys.argv) > 1 else IDLE_SECONDS)
