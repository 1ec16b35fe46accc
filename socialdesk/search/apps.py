from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "socialdesk.search"
    label = "search"

    def ready(self):
        from socialdesk.search.index import ensure_index

        # Not business flow: SQLite rebuilds a table to alter most columns and
        # drops its triggers with the old table, so a later migration of posts
        # or identities would silently stop the index from following them.
        post_migrate.connect(ensure_index, sender=self)
