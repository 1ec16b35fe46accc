from django.contrib.auth import views as auth_views
from django.urls import path

from socialdesk.web import inbox_views, views

app_name = "web"

urlpatterns = [
    path("", inbox_views.inbox_view, name="inbox"),
    path("cases/<int:case_id>/", views.case_view, name="case"),
    path("cases/<int:case_id>/reply/", views.reply_view, name="reply"),
    path("cases/<int:case_id>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("cases/<int:case_id>/notes/", views.note_view, name="note"),
    path("cases/<int:case_id>/check-back/", views.check_back_view, name="check_back"),
    path("cases/<int:case_id>/presence/", views.presence_view, name="presence"),
    path("replies/<int:reply_id>/approve/", views.approve_view, name="approve_reply"),
    path("replies/<int:reply_id>/return/", views.return_view, name="return_reply"),
    path("approvals/", views.approvals_view, name="approvals"),
    path("cases/<int:case_id>/assign-to-me/", views.assign_to_me_view, name="assign_to_me"),
    path("cases/<int:case_id>/status/", views.status_view, name="status"),
    path("cases/<int:case_id>/posts/<int:post_id>/triage/", views.correct_triage_view,
         name="correct_triage"),
    path("reports/", views.report_view, name="report"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
]
