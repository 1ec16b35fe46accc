from django.contrib import admin

from socialdesk.routing.models import RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "team", "enabled")
    list_editable = ("enabled",)
