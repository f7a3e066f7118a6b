"""An existing database upgrades: images recorded before ``webui_commit`` existed take the
commit their build remembered."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from images.models import WebUIImage

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_images_built_before_the_field_get_their_builds_commit() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    before = [("images", "0001_initial")]
    try:
        executor = _migrate(before)
        old = executor.loader.project_state(before).apps
        Build, Image = old.get_model("images", "ImageBuild"), old.get_model("images", "WebUIImage")
        source = Build._meta.get_field("source").choices[0][0]
        build = Build.objects.create(
            public_id="b-migration1",
            template="sd-webui",
            region="cn-hangzhou",
            base_image_id="m-base",
            source=source,
            state={"webui_commit": COMMIT},
        )
        for image_id, made_by in (("m-with-build", build), ("m-without-build", None)):
            Image.objects.create(
                template="sd-webui",
                region="cn-hangzhou",
                cloud_image_id=image_id,
                name=image_id,
                status="Available",
                build=made_by,
            )
        _migrate(latest)
        assert WebUIImage.objects.get(cloud_image_id="m-with-build").webui_commit == COMMIT
        assert WebUIImage.objects.get(cloud_image_id="m-without-build").webui_commit == ""
    finally:
        _migrate(latest)
        WebUIImage.objects.all().delete()
