from django.core.management.base import BaseCommand

from integrations.simulator.server import start_simulator


class Command(BaseCommand):
    help = "Run the integrations simulator (our EFs, Supabase, Vercel, PagerDuty, Slack) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port, host, **options):
        sim = start_simulator(port=port, host=host, thread=False)
        self.stdout.write(f"Simulator on {sim.url} (control: {sim.url}/_control/state)")
        for name, value in sim.settings().items():
            self.stdout.write(f"  {name}={value}")
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
