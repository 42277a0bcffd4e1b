"""The request id of the work in progress, so audit entries can name it."""

import contextvars

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
