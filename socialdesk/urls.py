from django.contrib import admin
from django.urls import include, path

from socialdesk.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("notifications/", include("socialdesk.notifications.urls")),
    path("contacts/", include("socialdesk.contacts.urls")),
    path("account/", include("socialdesk.accounts.urls")),
    path("", include("socialdesk.web.urls")),
]
