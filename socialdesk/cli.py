"""The `socialdesk` command: a short list of verbs over Django's management commands.

Commands that need the database create and migrate it on first use, so every
command works from a fresh data directory.
"""

import os
import signal
import sys
import threading

# verb: (management command, needs the database, one line of help)
COMMANDS = {
    "demo": ("demo", True,
             "set up a demo desk (accounts, bundled sample) and serve it on 127.0.0.1:8000"),
    "serve": ("serve", True, "serve the web app and the JSON API"),
    "import": ("import_posts", True,
               "import posts (JSON Lines, CSV or --format twcs) and run the pipeline"),
    "process": ("process_backlog", True,
                "process stored posts an interrupted import left unprocessed"),
    "triage": ("triage_file", False,
               "triage a file offline, no database: one JSON line per post"),
    "eval": ("evaluate", False, "score triage on the public labelled data sets"),
    "train": ("train_models", True,
              "train the triage models from the public data (and agents' corrections)"),
    "topics": ("topics", True, "import, export or list the brand's topics (YAML)"),
    "policy": ("policy", True,
               "show, export, validate, install, roll back or simulate the response policy"),
    "org": ("org", True, "import or export the org chart: calendars, teams, agents, "
            "routing rules, SLA policies (YAML)"),
    "worker": (None, True, "run a Celery worker (scale-out mode; needs CELERY_BROKER_URL)"),
    "scheduler": (None, True,
                  "run the clock on Celery beat: SLA warnings and breaches, follow-ups, "
                  "reassignment (scale-out mode; one per deployment)"),
    "contacts": ("contacts", True, "import the customer database (CSV), suggest merges, "
                 "refresh tags, export or erase a person's data"),
    "createuser": ("create_user", True, "create an agent, supervisor or admin account"),
    "token": ("api_token", True, "create or revoke a user's API token"),
    "webhook": ("webhook", True, "add, list, rotate, pause or remove the sources of the "
                "signed webhook for listening tools"),
    "migrate": ("migrate", False, "create or upgrade the database"),
    # No automatic migration: a backup copies the database as it is, and a
    # restore replaces it before upgrading the restored copy.
    "backup": ("backup", False,
               "copy the embedded database to a file, consistently, even while the desk runs"),
    "restore": ("restore", False,
                "replace the embedded database with a backup, keeping the one it replaces"),
    "manage": (None, False, "run any Django management command (advanced)"),
}

USAGE = "usage: socialdesk COMMAND [options]   (socialdesk COMMAND --help for its options)"


def print_help() -> None:
    print(USAGE)
    print()
    print("commands:")
    for verb, (_, _, line) in COMMANDS.items():
        print(f"  {verb:<11} {line}")
    print()
    print("Data lives in $SOCIALDESK_DATA_DIR (default ~/.local/share/socialdesk); "
          "DATABASE_URL and CELERY_BROKER_URL select the scale-out mode.")


def migrate_if_needed() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("Preparing the database…", file=sys.stderr)
        call_command("migrate", interactive=False, verbosity=0)


# Variables Celery's own command line reads as defaults for its options. A
# BROKER_URL left in the environment would send the worker and the scheduler to
# another broker than the one the web and import processes queue on
# (CELERY_BROKER_URL): posts queued where no worker listens.
CELERY_CLI_VARIABLES = ("APP", "BROKER_URL", "RESULT_BACKEND", "LOADER", "CONFIG_MODULE")


def drop_celery_cli_environment() -> None:
    """The desk's settings are the only source of the worker's and scheduler's
    configuration, as they are for every other process."""
    for name in CELERY_CLI_VARIABLES:
        os.environ.pop(name, None)


def exit_on_sigterm() -> None:
    """Turn SIGTERM (systemd, Docker, `kill`) into an ordinary exit.

    By default SIGTERM ends the process at once, skipping `finally` blocks and
    exit handlers, so database connections are dropped mid-transaction and the
    triage helper pool is never shut down. Raising SystemExit runs them. Only
    the default disposition is replaced: a program that calls main() with its
    own handler keeps it, and Celery installs its own over this one.
    """
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL):
        signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum, frame):
    # A second SIGTERM while shutting down ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print_help()
        return 0
    verb, rest = argv[0], argv[1:]
    if verb in ("-V", "--version"):
        from socialdesk import __version__

        print(__version__)
        return 0
    if verb not in COMMANDS:
        print(f"socialdesk: unknown command {verb!r}\n", file=sys.stderr)
        print_help()
        return 2
    exit_on_sigterm()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    import django

    django.setup()
    command, needs_db, _ = COMMANDS[verb]
    wants_help = "-h" in rest or "--help" in rest
    if needs_db and not wants_help:
        migrate_if_needed()
    if verb in ("worker", "scheduler"):
        from django.conf import settings

        from socialdesk.celery import app

        drop_celery_cli_environment()
        if not settings.SCALE_OUT:
            print(f"socialdesk {verb}: set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0); "
                  "without a broker the pipeline runs in-process and `socialdesk serve` "
                  "runs the clock.", file=sys.stderr)
            return 2
        if verb == "scheduler":
            if settings.WATCH_ACCOUNTS and not wants_help:
                # Accounts whose platform says when something arrives (IMAP
                # IDLE) are watched here, once for all; their fetches go to workers.
                from socialdesk.connectors.watching import Watchers

                Watchers().start()
            # The schedule lives in settings (CELERY_BEAT_SCHEDULE); beat's own
            # state file goes to the data directory.
            app.start(["beat", "--loglevel=INFO",
                       f"--schedule={settings.DATA_DIR / 'celerybeat-schedule'}", *rest])
        else:
            app.worker_main(["worker", "--loglevel=INFO", *rest])
        return 0
    from django.core.management import execute_from_command_line

    if verb == "manage":
        execute_from_command_line(["socialdesk manage", *rest])
    else:
        execute_from_command_line(["socialdesk", command, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
