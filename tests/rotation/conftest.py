# The incident fixtures rotation tests build on (an open Credential Leak incident, sync tasks).
from tests.incidents.conftest import (  # noqa: F401
    _fresh_cache,
    open_incident,
    run_step,
    step_of,
    sync_tasks,
)
