from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "socialdesk.ingestion"
    label = "ingestion"

    def ready(self):
        from socialdesk.lib import lookups

        # The pipeline's reads by id lists, without Django's per-value preparation.
        lookups.register()
