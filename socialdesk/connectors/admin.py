from django.contrib import admin

from socialdesk.connectors.models import ChannelAccount


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    list_display = ("channel", "handle", "name", "delivery")
