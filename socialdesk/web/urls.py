from django.contrib.auth import views as auth_views
from django.urls import path

from socialdesk.web import composer_views, inbox_views, saved_reply_views, views

app_name = "web"

urlpatterns = [
    path("", inbox_views.inbox_view, name="inbox"),
    path("inbox/changes/", inbox_views.inbox_changes_view, name="inbox_changes"),
    path("inbox/bulk/", inbox_views.inbox_bulk_view, name="inbox_bulk"),
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
    path("cases/<int:case_id>/check/", composer_views.check_reply_view, name="check_reply"),
    path("cases/<int:case_id>/acknowledge/check/", composer_views.check_acknowledge_view,
         name="check_acknowledge"),
    path("cases/<int:case_id>/saved-replies/<int:saved_id>/",
         composer_views.saved_reply_text_view, name="saved_reply_text"),
    path("cases/<int:case_id>/priority/", composer_views.priority_view, name="priority"),
    path("cases/<int:case_id>/tags/", composer_views.tags_view, name="tags"),
    path("cases/<int:case_id>/assign/", composer_views.assign_view, name="assign"),
    path("saved-replies/", saved_reply_views.saved_replies_view, name="saved_replies"),
    path("saved-replies/<int:saved_id>/", saved_reply_views.saved_reply_view,
         name="saved_reply"),
    path("saved-replies/<int:saved_id>/delete/", saved_reply_views.saved_reply_delete_view,
         name="saved_reply_delete"),
    path("cases/<int:case_id>/posts/<int:post_id>/triage/", views.correct_triage_view,
         name="correct_triage"),
    path("reports/", views.report_view, name="report"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
]
