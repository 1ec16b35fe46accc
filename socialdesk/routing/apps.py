from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socialdesk.routing"
    label = "routing"
