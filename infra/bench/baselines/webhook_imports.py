"""B6's webhook baseline: functions-framework and the client libraries the webhook needs
(Cloud Storage, Pub/Sub, the structured log handler), imported at start; answers 200."""

from typing import Any

import functions_framework
import google.cloud.pubsub_v1
import google.cloud.storage
from google.cloud.logging_v2.handlers import StructuredLogHandler

LOADED = (google.cloud.pubsub_v1, google.cloud.storage, StructuredLogHandler)


@functions_framework.http
def baseline(request: Any) -> Any:
    request.get_data()
    return {"ok": True}, 200
