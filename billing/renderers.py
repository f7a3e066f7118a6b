"""CSV for cost reports: ``?format=csv`` or ``Accept: text/csv``."""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Renders a report's ``results`` under its ``columns``: one header line, then one line per
    result. Booleans are ``true``/``false`` and amounts keep the API's decimal text, so reading
    the file back gives the JSON rows again."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        buffer = io.StringIO()
        columns = data["columns"]
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        for row in data["results"]:
            writer.writerow([cell(row.get(name)) for name in columns])
        return buffer.getvalue().encode(self.charset)


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
