from django.contrib import admin

from socialdesk.contacts.models import Contact, ContactNote, Identity, Merge, MergeSuggestion


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer_id", "tier", "email", "created_at")
    list_filter = ("tier",)
    search_fields = ("name", "email", "customer_id", "identities__handle")
    raw_id_fields = ("merged_into", "account_owner")
    readonly_fields = ("erased_at",)
    inlines = [IdentityInline]


@admin.register(ContactNote)
class ContactNoteAdmin(admin.ModelAdmin):
    list_display = ("__str__", "author", "created_at")
    raw_id_fields = ("contact",)


# Merges and suggestions are decided on the contact pages, where the moves are
# recorded and undone; the admin only shows them.
@admin.register(Merge)
class MergeAdmin(admin.ModelAdmin):
    list_display = ("__str__", "merged_by", "merged_at", "undone_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "decided_by", "created_at")
    list_filter = ("status", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
