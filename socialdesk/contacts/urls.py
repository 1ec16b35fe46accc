from django.urls import path

from socialdesk.contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("suggestions/", views.suggestions_view, name="suggestions"),
    path("suggestions/<int:suggestion_id>/decide/", views.decide_view, name="decide"),
    path("import/", views.import_view, name="import"),
    path("merges/<int:merge_id>/unmerge/", views.unmerge_view, name="unmerge"),
    path("<int:contact_id>/", views.profile_view, name="profile"),
    path("<int:contact_id>/notes/", views.note_view, name="note"),
    path("<int:contact_id>/tags/", views.tag_view, name="tag"),
    path("<int:contact_id>/tags/remove/", views.untag_view, name="untag"),
    path("<int:contact_id>/merge/", views.merge_view, name="merge"),
    path("<int:contact_id>/export/", views.export_view, name="export"),
    path("<int:contact_id>/erase/", views.erase_view, name="erase"),
]
