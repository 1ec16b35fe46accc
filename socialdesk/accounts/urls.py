from django.urls import path

from socialdesk.accounts import views

app_name = "account"

urlpatterns = [
    path("tokens/", views.tokens_view, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token_view, name="revoke_token"),
    path("password/", views.PasswordView.as_view(), name="password"),
]
