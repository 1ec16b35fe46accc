from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "socialdesk.connectors"
    label = "connectors"
