"""URL map: the dashboard, the admin, the API and the health check."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import SignInView
from nestops.health import healthz
from telemetry import views as telemetry_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", telemetry_views.metrics, name="metrics"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/notifications/", include("notifications.urls")),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("nestops.api_urls", namespace="api")),
    path("operations/", include("operations.urls")),
    path("costs/budget/", include("budgets.urls")),
    path("costs/", include("billing.urls")),
    path("", include("webgateway.urls")),
    path("images/", include("images.urls")),
    path("cloud-account/", include("cloudaccount.urls")),
    # Pages under /instances/<id>/ of other apps first: instances ends with a catch-all.
    path("", include("hostfiles.urls")),
    path("", include("autostop.urls")),
    path("", include("instances.urls")),
]
