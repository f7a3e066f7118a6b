from __future__ import annotations

from django.urls import path

from operations import views

app_name = "operations"

urlpatterns = [
    path("", views.operation_list, name="list"),
    path("<str:public_id>/", views.operation_detail, name="detail"),
    path("<str:public_id>/cancel/", views.operation_cancel, name="cancel"),
]
