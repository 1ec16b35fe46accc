from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "socialdesk.audit"
    label = "audit"
