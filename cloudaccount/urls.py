from __future__ import annotations

from django.urls import path

from cloudaccount import views

app_name = "cloudaccount"

urlpatterns = [
    path("", views.account_check, name="check"),
]
