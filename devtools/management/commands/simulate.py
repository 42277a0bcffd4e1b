import os
import signal
import threading

from django.core.management.base import BaseCommand

from devtools.simulator.server import start_simulator

DEMO_SECRETS = ("prod/easymo/supabase/service-role", "stg/easymo/supabase/service-role")


class Command(BaseCommand):
    help = (
        "Run the development simulator (our EFs, Supabase Management, Vercel, PagerDuty, Slack) "
        "in the foreground, plus moto as the AWS Secrets Manager endpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--aws-port",
            type=int,
            default=8788,
            help="moto server port for Secrets Manager; 0 = do not start it",
        )

    def handle(self, *args, port, host, aws_port, **options):
        # Serve at once (moto takes seconds to start): the EFs answer while AWS warms up.
        sim = start_simulator(port=port, host=host)
        self.stdout.write(f"Simulator on {sim.url} (control: {sim.url}/_control/state)")
        for name, value in sim.settings().items():
            self.stdout.write(f"  {name}={value}")
        self.stdout.flush()
        moto = self._start_moto(host, aws_port) if aws_port else None
        if moto is not None:  # GET /_control/settings hands these out too (demo --leak)
            sim.add_settings(
                AWS_SECRETS_ENDPOINT_URL=f"http://{host}:{aws_port}",
                SECRETS_MANAGER_ENABLED=True,
                AWS_REGION=os.environ.get("AWS_REGION", "eu-west-1"),
            )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
            if moto is not None:
                moto.stop()

    def _start_moto(self, host: str, port: int):
        try:
            import boto3
            from moto.server import ThreadedMotoServer
        except ImportError:
            self.stderr.write("moto[server] is not installed: Secrets Manager is not simulated.")
            return None
        server = ThreadedMotoServer(ip_address=host, port=port)
        server.start()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "secretsmanager",
            endpoint_url=endpoint,
            region_name=os.environ.get("AWS_REGION", "eu-west-1"),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for name in DEMO_SECRETS:
            client.create_secret(Name=name, SecretString="sb_secret_demo_only_not_a_real_key")
        self.stdout.write(f"Secrets Manager (moto) on {endpoint}: {', '.join(DEMO_SECRETS)}")
        return server
