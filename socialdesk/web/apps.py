from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "socialdesk.web"
    label = "web"
