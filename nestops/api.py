"""Pieces every API endpoint shares: one error shape, pagination, client info.

Who may do what is checked in ``accounts.permissions``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, status
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


def client_address(request: Request) -> str | None:
    # REMOTE_ADDR only: a forwarded header is whatever the client chose to send.
    return request.META.get("REMOTE_ADDR") or None


ACCEPTED = status.HTTP_202_ACCEPTED
