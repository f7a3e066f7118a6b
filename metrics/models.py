"""What CloudMonitor measured on each host: one-minute samples and their hourly roll-up."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from instances.models import ServiceInstance


class Metric(models.IntegerChoices):
    """The host metrics nestops collects; ``CMS_NAMES`` gives CloudMonitor's names."""

    GPU = 1, _("GPU utilisation (%)")
    GPU_MEMORY = 2, _("GPU memory used (%)")
    CPU = 3, _("CPU utilisation (%)")
    MEMORY = 4, _("Memory used (%)")
    NETWORK_OUT = 5, _("Internet out (bit/s)")


CMS_NAMES: dict[int, str] = {
    Metric.GPU: "gpu_gpu_usedutilization",
    Metric.GPU_MEMORY: "gpu_memory_usedutilization",
    Metric.CPU: "CPUUtilization",
    Metric.MEMORY: "memory_usedutilization",
    Metric.NETWORK_OUT: "InternetOutRate",
}
# The names the API and the charts use.
METRIC_KEYS: dict[str, int] = {
    "gpu": Metric.GPU,
    "gpu_memory": Metric.GPU_MEMORY,
    "cpu": Metric.CPU,
    "memory": Metric.MEMORY,
    "network": Metric.NETWORK_OUT,
}


class MetricSample(models.Model):
    """One CloudMonitor point (Period 60) of one host: average, maximum and minimum of a minute.

    ``timestamp`` is the start of the minute in milliseconds since the epoch, as CloudMonitor
    gave it (the cloud's clock, never adjusted to ours). Kept 7 days; older data lives on as
    ``MetricHourly``.
    """

    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="metric_samples"
    )
    metric = models.PositiveSmallIntegerField(_("metric"), choices=Metric.choices)
    timestamp = models.BigIntegerField(_("minute (ms since the epoch)"))
    average = models.FloatField(_("average"))
    maximum = models.FloatField(_("maximum"))
    minimum = models.FloatField(_("minimum"))

    class Meta:
        db_table = "instances_metricsample"
        constraints = [
            # Collection re-reads overlapping ranges; the constraint drops what it already has.
            models.UniqueConstraint(
                fields=["instance", "metric", "timestamp"], name="metric_sample_unique"
            )
        ]
        indexes = [
            # evaluate_idle reads the last minutes of every host's GPU series; prune cuts by age.
            models.Index(fields=["metric", "timestamp"], name="metric_sample_metric_time"),
        ]
        verbose_name = _("metric sample")
        verbose_name_plural = _("metric samples")

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.instance_id} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)


class MetricHourly(models.Model):
    """An hour of a host's metric, rolled up from ``MetricSample`` (kept 90 days)."""

    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="metric_hours"
    )
    metric = models.PositiveSmallIntegerField(_("metric"), choices=Metric.choices)
    hour = models.BigIntegerField(_("hour (ms since the epoch)"))
    average = models.FloatField(_("average"))
    maximum = models.FloatField(_("maximum"))
    minimum = models.FloatField(_("minimum"))
    samples = models.PositiveSmallIntegerField(_("minutes with data"))

    class Meta:
        db_table = "instances_metrichourly"
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "metric", "hour"], name="metric_hour_unique"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="metric_hour_time")]
        verbose_name = _("hourly metric")
        verbose_name_plural = _("hourly metrics")

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.instance_id} @ {self.at:%Y-%m-%d %H:00}"

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.hour / 1000, tz=UTC)
