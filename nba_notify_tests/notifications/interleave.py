"""Tools to interleave real concurrent runs at the sync's named checkpoints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WAIT_SECONDS = 30.0


class SimulatedCrash(BaseException):
    """Raised at a checkpoint to stop a run dead: not an ``Exception``, so nothing in the sync
    catches it, no write-back happens and the lease is not released (as in a real crash)."""


@dataclass
class Pauses:
    """A checkpoint callback: at each named point listed in ``at``, signal ``reached[name]``
    and block until the test sets ``go[name]``. ``crash_at`` raises SimulatedCrash there."""

    at: tuple[str, ...] = ()
    crash_at: str | None = None
    reached: dict[str, threading.Event] = field(default_factory=dict)
    go: dict[str, threading.Event] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in self.at:
            self.reached[name] = threading.Event()
            self.go[name] = threading.Event()

    def __call__(self, name: str, **context: Any) -> None:
        self.seen.append(name)
        if name in self.reached and not self.reached[name].is_set():
            self.reached[name].set()
            if not self.go[name].wait(WAIT_SECONDS):
                raise TimeoutError(f"test never released checkpoint {name}")
        if name == self.crash_at:
            raise SimulatedCrash(name)

    def wait(self, name: str) -> None:
        if not self.reached[name].wait(WAIT_SECONDS):
            raise TimeoutError(f"run never reached checkpoint {name}")

    def release(self, name: str) -> None:
        self.go[name].set()


class Runner(threading.Thread):
    """A run on its own thread; ``result()`` re-raises whatever it raised."""

    def __init__(self, target: Callable[[], Any], name: str):
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self._target_fn()
        except BaseException as exc:
            self.error = exc

    def result(self, timeout: float = WAIT_SECONDS) -> Any:
        self.join(timeout)
        if self.is_alive():
            raise TimeoutError(f"{self.name} did not finish")
        if self.error is not None:
            raise self.error
        return self.value


def start(target: Callable[[], Any], name: str) -> Runner:
    runner = Runner(target, name)
    runner.start()
    return runner
