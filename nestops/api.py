"""Pieces every API endpoint shares: one error shape, pagination, client info.

Who may do what is checked in ``accounts.permissions``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cloud import CloudError
from nestops.errors import Refused


def error_response(code: str, message: str, details: Any = None, *, http_status: int) -> Response:
    return Response(
        {"code": code, "message": message, "details": details or {}}, status=http_status
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error as ``{"code", "message", "details"}``."""
    if isinstance(exc, Refused):
        return error_response(exc.code, exc.message, exc.details, http_status=exc.http_status)
    if isinstance(exc, CloudError):
        return error_response(
            "cloud_error",
            _("The cloud refused the request: %(code)s: %(message)s")
            % {"code": exc.code, "message": exc.message},
            exc.as_dict(),
            http_status=503 if exc.retryable else 502,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        first = _first_message(details)
        response.data = {
            "code": "invalid",
            "message": first or _("The request is not valid."),
            "details": details,
        }
        return response
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {"code": str(code), "message": str(detail or exc), "details": {}}
    return response


def _first_message(details: Any, prefix: str = "") -> str:
    if isinstance(details, dict):
        for key, value in details.items():
            found = _first_message(value, f"{key}: " if key != "non_field_errors" else "")
            if found:
                return found
    elif isinstance(details, list):
        for value in details:
            found = _first_message(value, prefix)
            if found:
                return found
    elif details:
        return f"{prefix}{details}"
    return ""


class StrictFieldsMixin:
    """A request body's unknown fields are an error naming them, never dropped in silence,
    and a list is measured before its items are read."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = self._unknown(data) or self._too_long(data)
            if errors:
                raise exceptions.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]

    def _unknown(self, data: Mapping) -> dict[str, list[str]]:
        fields = self.fields  # type: ignore[attr-defined]
        writable = sorted(name for name, field in fields.items() if not field.read_only)
        errors = {}
        for key in data:
            if key in writable:
                continue
            if key in fields:
                errors[str(key)] = [_("This field is read-only.")]
            else:
                errors[str(key)] = [
                    _("Unknown field. The fields are: %(fields)s.")
                    % {"fields": ", ".join(writable) or "-"}
                ]
        return errors

    def _too_long(self, data: Mapping) -> dict[str, list[str]]:
        errors = {}
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            limit = getattr(field, "max_length", None)
            value = data.get(name)
            listed = isinstance(field, serializers.ListField | serializers.ListSerializer)
            if listed and limit and isinstance(value, list) and len(value) > limit:
                errors[name] = [_("At most %(count)d items.") % {"count": limit}]
        return errors


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    pass


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        """``page_size`` from 1 to 200; anything else is a 400, not the default in silence."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    "page_size": [
                        _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)


def absolute_url(context: dict[str, Any], path: str) -> str:
    """``path`` as an absolute URL on the server the request reached (computed once per
    response and kept in the serializer context)."""
    base = context.get("_base_url")
    if base is None:
        request = context.get("request")
        base = request.build_absolute_uri("/").rstrip("/") if request is not None else ""
        context["_base_url"] = base
    return base + path


def client_address(request: Request) -> str | None:
    # REMOTE_ADDR only: a forwarded header is whatever the client chose to send.
    return request.META.get("REMOTE_ADDR") or None


ACCEPTED = status.HTTP_202_ACCEPTED
