from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "socialdesk.accounts"
    label = "accounts"
