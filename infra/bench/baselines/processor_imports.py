"""B6's processor baseline: functions-framework and the client libraries the processor needs
(Cloud Storage, the structured log handler, SQLAlchemy with pg8000, pymongo, anthropic),
imported at start; acknowledges every delivery."""

from typing import Any

import anthropic
import functions_framework
import google.cloud.storage
import pg8000
import pymongo
import sqlalchemy
from google.cloud.logging_v2.handlers import StructuredLogHandler

LOADED = (anthropic, google.cloud.storage, pg8000, pymongo, sqlalchemy, StructuredLogHandler)


@functions_framework.cloud_event
def baseline(cloud_event: Any) -> None:
    return None
