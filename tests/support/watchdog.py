"""A SIGALRM watchdog: it turns a return to super-linear work into a failing test
instead of a hung test run. No test asserts a duration; the limits are generous."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import pytest


class WatchdogExpired(TimeoutError):
    """Raised in the main thread when the watched code runs past its limit."""


@contextmanager
def watchdog(seconds: int, hint: str = "") -> Iterator[None]:
    """Run the body with an alarm of `seconds`; `hint` says what a timeout suggests."""
    message = f"still running after {seconds} s" + (f": {hint}" if hint else "")

    def expire(signum: int, frame: FrameType | None) -> None:
        raise WatchdogExpired(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def watchdog_for_each_test(seconds: int, hint: str = "") -> Callable[[], Iterator[None]]:
    """An autouse fixture that runs every test of the module assigning it under `watchdog`."""

    @pytest.fixture(autouse=True)
    def watched() -> Iterator[None]:
        with watchdog(seconds, hint):
            yield

    return watched
