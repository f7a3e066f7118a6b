from __future__ import annotations

from django.urls import path

from instances import file_views, views
from operations import idle_views

app_name = "instances"

urlpatterns = [
    path("", views.instance_list, name="list"),
    path("instances/new/", views.instance_create, name="create"),
    path("instances/new/zones/", views.wizard_zones, name="wizard-zones"),
    path("instances/new/types/", views.wizard_types, name="wizard-types"),
    path("instances/new/summary/", views.wizard_summary, name="wizard-summary"),
    path("instances/<str:public_id>/", views.instance_detail, name="detail"),
    path(
        "instances/<str:public_id>/credentials/",
        views.instance_credentials,
        name="credentials",
    ),
    path("instances/<str:public_id>/idle-policy/", idle_views.idle_policy, name="idle-policy"),
    path("instances/<str:public_id>/snooze/", idle_views.instance_snooze, name="snooze"),
    path("instances/<str:public_id>/schedule/", idle_views.instance_schedule, name="schedule"),
    # The Models & extensions tab (before the catch-all action route below).
    path("instances/<str:public_id>/files/", file_views.instance_files, name="files"),
    path(
        "instances/<str:public_id>/files/<str:action>/",
        file_views.files_action,
        name="files-action",
    ),
    path(
        "instances/<str:public_id>/models/<str:model_id>/<str:action>/",
        file_views.model_action,
        name="model-action",
    ),
    path(
        "instances/<str:public_id>/extensions/<str:extension_id>/<str:action>/",
        file_views.extension_action,
        name="extension-action",
    ),
    path("instances/<str:public_id>/<str:action>/", views.instance_action, name="action"),
]
