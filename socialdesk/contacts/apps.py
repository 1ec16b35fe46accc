from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "socialdesk.contacts"
    label = "contacts"
