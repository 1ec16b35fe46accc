from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "socialdesk.analytics"
    label = "analytics"
