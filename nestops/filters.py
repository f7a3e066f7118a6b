"""Filter fields the API and the dashboard lists share: strict booleans, and moments written
as a day (the dashboard's date inputs) or as an ISO 8601 time (API clients)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or 1/0); anything else is an error, never silently ignored."""

    TRUE = ("true", "1", "yes")
    FALSE = ("false", "0", "no")

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class MomentField(forms.Field):
    """A day (``2026-12-01``, the user's time zone) or an ISO 8601 time; returns
    ``(moment, is_day)``."""

    def to_python(self, value: Any) -> tuple[datetime, bool] | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text)
        except ValueError:  # well formed but impossible, e.g. month 13
            day = moment = None
        if day is not None:
            return timezone.make_aware(datetime.combine(day, time.min)), True
        if moment is None:
            raise forms.ValidationError(
                _("Use a day (2026-12-01) or an ISO 8601 time (2026-12-01T09:00:00Z)."),
                code="invalid",
            )
        return (moment if timezone.is_aware(moment) else timezone.make_aware(moment)), False


class SinceFilter(django_filters.Filter):
    """Rows at or after the moment (from the start of a day)."""

    field_class = MomentField

    def filter(self, qs: Any, value: tuple[datetime, bool] | None) -> Any:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": value[0]})


class UntilFilter(django_filters.Filter):
    """Rows before the moment; a day counts whole (up to its end)."""

    field_class = MomentField

    def filter(self, qs: Any, value: tuple[datetime, bool] | None) -> Any:
        if not value:
            return qs
        moment, is_day = value
        end = moment + timedelta(days=1) if is_day else moment
        return qs.filter(**{f"{self.field_name}__lt": end})
