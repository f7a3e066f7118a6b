from __future__ import annotations

from django.urls import path

from images import views

app_name = "images"

urlpatterns = [
    path("", views.images, name="images"),
    path("build/", views.build, name="start-build"),
    path("builds/<str:public_id>/", views.build_detail, name="build"),
    path("<str:image_id>/delete/", views.delete, name="delete"),
]
