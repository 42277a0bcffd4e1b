"""Logging glue: the request id on every record, and the JSON lines of LOG_FORMAT=json."""

import logging

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from audit.context import request_id_var


class RequestIdFilter(logging.Filter):
    """`record.request_id`: the request in progress (RequestIdMiddleware), or the one a
    record names (Django logs a 4xx/5xx answer after the middleware has returned)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if not request_id:
            request_id = getattr(getattr(record, "request", None), "request_id", "")
        record.request_id = request_id
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter without the request object Django attaches to some
    records (its repr is noise; the request id and status code say what matters)."""

    def process_log_record(self, log_data):
        log_data.pop("request", None)
        return super().process_log_record(log_data)
