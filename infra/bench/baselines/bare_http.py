"""B5's baseline: a bare functions-framework HTTP handler that reads the body and answers 200."""

from typing import Any

import functions_framework


@functions_framework.http
def bare(request: Any) -> Any:
    request.get_data()
    return {"ok": True}, 200
