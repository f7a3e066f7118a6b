from __future__ import annotations

from nestops.checks import cache_shared_with_the_broker


def test_it_warns_when_the_broker_is_redis_and_the_cache_is_per_machine(settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"}
    }
    assert [w.id for w in cache_shared_with_the_broker()] == ["nestops.W001"]

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert cache_shared_with_the_broker() == []

    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"}
    }
    assert cache_shared_with_the_broker() == []
