"""What a process that owns local servers needs: to call async clients from sync code, and to run
its cleanup when it is asked to stop."""

import asyncio
import ctypes
import functools
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

PR_SET_PDEATHSIG = 1


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    # A private event loop in a worker thread works whether or not the caller is already inside
    # one (pytest-asyncio's, uvicorn's), and leaves the caller's loop alone.
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


def stop_cleanly_on_sigterm() -> None:
    """Make SIGTERM act like Ctrl-C, unless the program already handles SIGTERM itself."""
    # Python's default SIGTERM action ends the process without running `finally` blocks or atexit
    # handlers, which is where the servers are stopped. KeyboardInterrupt rather than SystemExit:
    # pytest reports a SystemExit raised in a test as a failure and carries on, while on
    # KeyboardInterrupt it ends the session and tears down its fixtures.
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def dies_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the child sent SIGTERM when the thread that started it dies."""
    if sys.platform != "linux":
        return None
    # Looked up before the fork: the child may only run code that needs no lock another thread
    # could have held at the fork.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return functools.partial(prctl, PR_SET_PDEATHSIG, int(signal.SIGTERM))
