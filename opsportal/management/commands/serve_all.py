import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

SIMULATOR_PORT = 8787
AWS_PORT = 8788  # moto, started by `simulate` (the Makefile's SIM and SIM_AWS name both)


class Command(BaseCommand):
    help = "Run web server, task worker and (devtools installed) the simulator; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--simulator-port", type=int, default=SIMULATOR_PORT)
        parser.add_argument("--aws-port", type=int, default=AWS_PORT)

    def handle(self, *args, addr, simulator_port, aws_port, **options):
        manage = [sys.executable, "manage.py"]
        commands = {
            "web": [*manage, "runserver", addr, "--noreload"],
            "worker": [*manage, "qcluster"],
        }
        from django.core.management import get_commands

        if "simulate" in get_commands():
            commands["simulator"] = [
                *manage,
                "simulate",
                "--port",
                str(simulator_port),
                "--aws-port",
                str(aws_port),
            ]
        procs = {
            name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()
        }
        self.stdout.write(
            f"Started {', '.join(procs)}. OpsPortal: http://{addr}/admin/ — Ctrl-C stops all."
        )
        stop = False

        def _stop(signum, frame):
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with {proc.returncode}; stopping the rest."
                        )
                        stop = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
