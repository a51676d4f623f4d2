"""B6's rollup baseline: functions-framework and the client libraries the rollup needs
(SQLAlchemy with pg8000, the structured log handler), imported at start; answers 200."""

from typing import Any

import functions_framework
import pg8000
import sqlalchemy
from google.cloud.logging_v2.handlers import StructuredLogHandler

LOADED = (pg8000, sqlalchemy, StructuredLogHandler)


@functions_framework.http
def baseline(request: Any) -> Any:
    request.get_data()
    return {"ok": True}, 200
