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
        results = data["results"]
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        # Only flags need spelling out (csv writes None as an empty cell and text as it is);
        # converting just those columns keeps a 30,000-line export fast.
        flags = [
            i
            for i, name in enumerate(columns)
            if results and isinstance(results[0].get(name), bool)
        ]
        for row in results:
            values = [row.get(name) for name in columns]
            for i in flags:
                values[i] = "true" if values[i] else "false"
            writer.writerow(values)
        return buffer.getvalue().encode(self.charset)
