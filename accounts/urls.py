from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views

app_name = "account"

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<str:public_id>/revoke/", views.revoke_token, name="revoke-token"),
    path("members/", views.members, name="members"),
    path("members/<str:username>/", views.change_member, name="change-member"),
    path("language/", views.set_language, name="language"),
    path("preferences/", views.preferences, name="preferences"),
    path("team/", views.switch_team, name="switch-team"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("account:password-done")),
        name="password",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password-done",
    ),
]
