from django.urls import path

from socialdesk.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("read/", views.read_view, name="read"),
    path("count/", views.count_view, name="count"),
]
