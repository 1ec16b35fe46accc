from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the web app and the API (waitress, a production WSGI server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-clock", action="store_true",
                            help="do not run the clock (SLA warnings and breaches, follow-ups, "
                                 "reassignment) in this process")

    def handle(self, *args, **options):
        from waitress import serve

        from socialdesk.wsgi import application

        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/ "
                          f"(data in {settings.DATA_DIR}); Ctrl-C stops.")
        if not settings.SCALE_OUT and not options["no_clock"]:
            # The embedded mode has no Celery beat: the clock runs here. In the
            # scale-out mode `socialdesk scheduler` runs it, once for all.
            from socialdesk.cases.scheduler import ClockThread

            ClockThread().start()
            self.stdout.write(f"The clock runs every {settings.CLOCK_INTERVAL_SECONDS} s.")
            if settings.WATCH_ACCOUNTS:
                from socialdesk.connectors.watching import Watchers

                Watchers().start()
        try:
            serve(application, host=options["host"], port=options["port"],
                  threads=options["threads"], ident="socialdesk")
        except OSError as e:
            raise CommandError(f"cannot serve on {options['host']}:{options['port']}: "
                               f"{e.strerror or e} (is another server using it? try --port)"
                               ) from None
