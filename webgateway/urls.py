from __future__ import annotations

from django.urls import path

from webgateway import views

app_name = "webgateway"

urlpatterns = [
    path("webui/<str:public_id>/", views.open_webui, name="open"),
    path("gateway/auth", views.auth, name="auth"),
    path("gateway/page", views.page, name="page"),
    path("gateway/handoff", views.handoff, name="handoff"),
    path("gateway/status", views.status, name="status"),
    path("gateway/start", views.start, name="start"),
]
