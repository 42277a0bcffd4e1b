"""A thread-safe pacer: the throttle as exact spacing between send starts (GCRA).

Each send reserves the next slot `tat`; slots are 60/throttle seconds apart, so no
window of any length sees more than its share (+1), and the long-run rate is exact.
A slot left unused because nothing was ready is not banked (no burst later), except
for a small `slack` so a lane that is a few ms late does not cost the whole interval.
"""

import threading
import time


class Pacer:
    def __init__(self, *, per_minute: int, start_at: float | None = None, slack: float = 0.0):
        self.interval = 60.0 / per_minute
        self.slack = min(slack, self.interval)
        self._lock = threading.Lock()
        self._tat = start_at if start_at is not None else time.monotonic()
        self._paused_until = 0.0

    def pause_until(self, monotonic_deadline: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, monotonic_deadline)
            self._tat = max(self._tat, self._paused_until)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def acquire(self, *, deadline: float, cancelled: threading.Event) -> bool:
        """Wait for this caller's slot; False when the deadline or a cancel comes first."""
        while True:
            with self._lock:
                now = time.monotonic()
                slot = max(self._tat, now - self.slack, self._paused_until)
                if slot > deadline:
                    return False
                self._tat = slot + self.interval
            wait = slot - time.monotonic()
            if wait > 0 and cancelled.wait(wait):
                return False
            if cancelled.is_set():
                return False
            # A pause announced while we slept (429 from another lane) wins over our slot.
            if time.monotonic() >= self._paused_until:
                return True

    @property
    def next_slot(self) -> float:
        return max(self._tat, self._paused_until)
