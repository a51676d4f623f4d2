"""B9's baseline: a bare CloudEvent handler that waits as long as the Claude stand-in takes
(``BENCH_WAIT_SECONDS``) and acknowledges; each email id and the time it finished are appended
to ``BENCH_DONE_FILE`` (one short line, one ``write`` on an ``O_APPEND`` file)."""

import base64
import json
import os
import time
from typing import Any

import functions_framework

_WAIT = float(os.environ["BENCH_WAIT_SECONDS"])
_DONE = os.open(os.environ["BENCH_DONE_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


@functions_framework.cloud_event
def bare(cloud_event: Any) -> None:
    message = cloud_event.data["message"]
    email_id = message.get("attributes", {}).get("email_id")
    if not email_id:
        email_id = json.loads(base64.b64decode(message["data"]))["email_id"]
    time.sleep(_WAIT)
    os.write(_DONE, f"{email_id} {time.time():.6f}\n".encode())
