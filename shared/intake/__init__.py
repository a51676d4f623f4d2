"""Webhook intake: verify, normalise, store the raw MIME in GCS, publish to Pub/Sub."""
