from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "socialdesk.ingestion"
    label = "ingestion"
