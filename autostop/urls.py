from __future__ import annotations

from django.urls import path

from autostop import views

app_name = "autostop"

urlpatterns = [
    path("instances/<str:public_id>/idle-policy/", views.idle_policy, name="idle-policy"),
    path("instances/<str:public_id>/snooze/", views.instance_snooze, name="snooze"),
    path("instances/<str:public_id>/schedule/", views.instance_schedule, name="schedule"),
]
