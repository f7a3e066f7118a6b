from __future__ import annotations

from django.urls import path

from hostfiles import views

app_name = "hostfiles"

urlpatterns = [
    path("account/model-site-tokens/", views.model_site_tokens, name="tokens"),
    path("account/downloads/", views.download_settings, name="download-settings"),
    path("instances/<str:public_id>/files/", views.instance_files, name="files"),
    path(
        "instances/<str:public_id>/files/<str:action>/",
        views.files_action,
        name="files-action",
    ),
    path(
        "instances/<str:public_id>/models/<str:model_id>/<str:action>/",
        views.model_action,
        name="model-action",
    ),
    path(
        "instances/<str:public_id>/files/operations/<str:operation_id>/<str:action>/",
        views.activity_action,
        name="activity-action",
    ),
    path(
        "instances/<str:public_id>/extensions/<str:extension_id>/<str:action>/",
        views.extension_action,
        name="extension-action",
    ),
]
