from __future__ import annotations

from django.urls import path

from instances import views

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
    # Last: the other apps' pages under an instance are routed before this catch-all.
    path("instances/<str:public_id>/<str:action>/", views.instance_action, name="action"),
]
