"""The incidents engine: the bottom layer every runbook step runs on.

params.py     Param and ParamsForm (one form renders and validates a step's parameters)
registry.py   what an action is; the registry the action catalogue fills
runbook.py    what a runbook is; the registry the runbooks fill
timeline.py   the append-only incident timeline
claims.py     the claim rule shared by every run record (step runs, key rotations)
queue.py      a queued StepRun, enqueued after commit
approvals.py  the two-person rule: request, decide, refusal rules, expiry
execute.py    the worker: claim, log capture, retries, dry-run rollback, stale runs

Within the engine, a module imports only modules listed before it. The engine imports no
other incidents package (services, catalogue, detectors, gates, runbooks) and no rotation.
"""
