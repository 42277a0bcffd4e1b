"""Who a dispatcher process is: its worker name (heartbeats) and its node (failure domain)."""

import os
import socket

from django.conf import settings


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def node_name() -> str:
    """The failure domain this process belongs to (OPSPORTAL_NODE, default the host name):
    a standby is worth most on another node than the holder's."""
    return settings.OPSPORTAL_NODE or socket.gethostname()
