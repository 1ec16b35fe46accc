from django.contrib import admin

from socialdesk.contacts.models import Contact, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tier", "created_at")
    list_filter = ("tier",)
    search_fields = ("name", "identities__handle")
    inlines = [IdentityInline]
