"""The campaign dispatcher: bounded slices run by the django-q2 task
`campaigns.tasks.dispatch_slice` (the name stored in queued tasks; keep it).

- `coordinator`: one slice — take the campaign's lease, rounds of sending until the slice's
  time is up, the campaign stops, must wait (quiet hours, backoff, retries not yet due) or is
  done; renews the lease, watches for stop, persists progress, re-enqueues the next slice.
- `lanes`: the concurrent sends of a round — threads with their own database connection,
  each claiming a small batch `FOR UPDATE SKIP LOCKED`, spaced by the shared `Pacer`.
- `backoff`: the campaign-wide wait (Retry-After, else exponential) every lane and worker
  shares.
"""

from campaigns.dispatch.coordinator import SliceResult, SliceRunner, slice_dispatch

__all__ = ["SliceResult", "SliceRunner", "slice_dispatch"]
