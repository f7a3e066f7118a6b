"""``/api/v1/``: the versioned REST API and its OpenAPI schema."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api.views import AuditEventViewSet, TeamViewSet, TokenViewSet
from autostop.api.schedules import ScheduleView
from autostop.api.views import IdlePolicyView, SnoozeView, TeamIdleSettingsView
from billing.api.views import CostsView, EstimateView
from budgets.api.views import BudgetViewSet
from hostfiles.api.activity import FileActivityView
from hostfiles.api.views import (
    DownloadSettingsView,
    ExtensionViewSet,
    InventoryRefreshView,
    ModelFileViewSet,
    SourceTokenListView,
    SourceTokenView,
)
from images.api.views import ImageBuildViewSet, WebUIImageViewSet
from instances.api.views import InstanceTypesView, InstanceViewSet, RegionsView, ZonesView
from metrics.api.views import MetricsView
from notifications.api.views import ChannelViewSet, DeliveryViewSet
from operations.api.views import OperationViewSet
from webgateway.api.views import WebUIUsageView

app_name = "api"

router = DefaultRouter()
router.register("instances", InstanceViewSet, basename="instance")
router.register("operations", OperationViewSet, basename="operation")
router.register("teams", TeamViewSet, basename="team")
router.register("tokens", TokenViewSet, basename="token")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("notification-channels", ChannelViewSet, basename="notification-channel")
router.register("notification-deliveries", DeliveryViewSet, basename="notification-delivery")
router.register("budgets", BudgetViewSet, basename="budget")
router.register("images", WebUIImageViewSet, basename="image")
router.register("image-builds", ImageBuildViewSet, basename="image-build")

# What is on a host: its model files, extensions and inventory (instances/file_api.py).
on_instance = "instances/<str:instance_id>/"
host_file_urls = [
    path(
        f"{on_instance}models/",
        ModelFileViewSet.as_view({"get": "list", "post": "create"}),
        name="instance-models",
    ),
    path(
        f"{on_instance}models/<str:model_id>/",
        ModelFileViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="instance-model",
    ),
    path(
        f"{on_instance}models/<str:model_id>/preview/",
        ModelFileViewSet.as_view({"post": "preview"}),
        name="instance-model-preview",
    ),
    path(
        f"{on_instance}models/<str:model_id>/thumbnail/",
        ModelFileViewSet.as_view({"get": "thumbnail"}),
        name="instance-model-thumbnail",
    ),
    path(
        f"{on_instance}extensions/",
        ExtensionViewSet.as_view({"get": "list", "post": "create"}),
        name="instance-extensions",
    ),
    path(
        f"{on_instance}extensions/<str:extension_id>/",
        ExtensionViewSet.as_view(
            {"get": "retrieve", "patch": "update_extension", "delete": "destroy"}
        ),
        name="instance-extension",
    ),
    path(
        f"{on_instance}extensions/<str:extension_id>/update/",
        ExtensionViewSet.as_view({"post": "update_extension"}),
        name="instance-extension-update",
    ),
    path(
        f"{on_instance}files/activity/",
        FileActivityView.as_view(),
        name="instance-file-activity",
    ),
    path(
        f"{on_instance}inventory/refresh/",
        InventoryRefreshView.as_view(),
        name="instance-inventory-refresh",
    ),
    path(
        "teams/<slug:slug>/model-site-tokens/",
        SourceTokenListView.as_view(),
        name="team-model-site-tokens",
    ),
    path(
        "teams/<slug:slug>/model-site-tokens/<str:provider>/",
        SourceTokenView.as_view(),
        name="team-model-site-token",
    ),
    path(
        "teams/<slug:slug>/download-settings/",
        DownloadSettingsView.as_view(),
        name="team-download-settings",
    ),
]

urlpatterns = [
    *host_file_urls,
    path("catalog/regions/", RegionsView.as_view(), name="catalog-regions"),
    path("catalog/zones/", ZonesView.as_view(), name="catalog-zones"),
    path("catalog/instance-types/", InstanceTypesView.as_view(), name="catalog-instance-types"),
    path("instances/<str:public_id>/metrics/", MetricsView.as_view(), name="instance-metrics"),
    path(
        "instances/<str:public_id>/webui-usage/",
        WebUIUsageView.as_view(),
        name="instance-webui-usage",
    ),
    path(
        "instances/<str:public_id>/idle-policy/",
        IdlePolicyView.as_view(),
        name="instance-idle-policy",
    ),
    path("instances/<str:public_id>/snooze/", SnoozeView.as_view(), name="instance-snooze"),
    path("instances/<str:public_id>/schedule/", ScheduleView.as_view(), name="instance-schedule"),
    path(
        "teams/<slug:slug>/idle-settings/",
        TeamIdleSettingsView.as_view(),
        name="team-idle-settings",
    ),
    path("estimates/", EstimateView.as_view(), name="estimates"),
    path("costs/", CostsView.as_view(), name="costs"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
