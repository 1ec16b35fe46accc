from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "socialdesk.cases"
    label = "cases"
