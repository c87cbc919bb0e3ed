"""Ctrl-C and SIGTERM during a solve: stop the search and keep the best plan found so far.

CP-SAT runs in C++; a Python signal handler only runs when the interpreter gets control back, which a long
`solve` call would not give until its time limit. So every search runs in a worker thread while the main
thread waits in short slices: a signal then runs its handler promptly, the handler asks the solver to stop,
and CP-SAT returns its best plan within moments. Outside a search (loading, model building) the signal
interrupts as usual (KeyboardInterrupt), since there is nothing worth keeping yet.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ortools.sat.python import cp_model

SIGNALS = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class _Stop:
    """Which signal asked to stop, the solver currently searching (if any), and whether a search has begun."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self.solver: cp_model.CpSolver | None = None
        self.armed = False
        self.lock = threading.Lock()

    def request(self, name: str) -> bool:
        """Record the request; True when it is handled by stopping the search (False: interrupt as usual).

        Once a search has begun, the first signal stops it and lets the run write its best plan; a second
        signal interrupts as usual, so a planner can always get out.
        """
        with self.lock:
            if not self.armed or self.signal is not None:
                self.signal = self.signal or name
                return False
            self.signal = name
            if self.solver is not None:
                self.solver.stop_search()
            return True


STOP = _Stop()


def requested() -> str | None:
    """The signal that asked to stop this run, if any (e.g. "SIGINT")."""
    return STOP.signal


def _handler(signum: int, _frame: FrameType | None) -> None:
    if not STOP.request(SIGNALS.get(signum, str(signum))):
        raise KeyboardInterrupt


@contextmanager
def stoppable() -> Iterator[None]:
    """Install the SIGINT/SIGTERM handlers for one run (main thread only) and restore the old ones after."""
    STOP.signal, STOP.armed = None, False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_search(
    solver: cp_model.CpSolver, model: cp_model.CpModel, callback: cp_model.CpSolverSolutionCallback | None
) -> int:
    """`solver.solve(model, callback)`, stoppable by a signal; returns the CP-SAT status code.

    When a stop was already requested (for example between the two phases), the search is not started.
    """
    if STOP.signal is not None:
        return cp_model.UNKNOWN
    status: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            status.append(solver.solve(model, callback))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    with STOP.lock:
        STOP.solver, STOP.armed = solver, True
    worker = threading.Thread(target=work, name="cp-sat", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    finally:
        with STOP.lock:
            STOP.solver = None
    if errors:
        raise errors[0]
    return status[0]

