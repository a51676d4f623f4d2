# Webhook -> emails topic -> (push subscription) -> processor.
# Undeliverable messages go to the dead-letter topic, whose own pull
# subscription keeps them for inspection and replay.

locals {
  # Undelivered messages of the processor subscription: a week covers any
  # outage of the processor; after max_delivery_attempts a message moves to
  # the dead-letter topic anyway.
  message_retention = "604800s" # 7 days

  # Dead letters wait for an operator to find the cause and replay them: keep
  # them as long as Pub/Sub allows (31 days for a subscription).
  dead_letter_retention = "2678400s" # 31 days

  # Pub/Sub waits this long for the processor's HTTP response before it
  # counts a delivery as failed. It must exceed the processor's worst case
  # (its timeout, validated <= 540 s) so a slow email is not delivered twice
  # in parallel. 600 s is the Pub/Sub maximum.
  processor_ack_deadline_seconds = 600
}

resource "google_pubsub_topic" "emails" {
  name    = "emails-${local.suffix}"
  project = var.project_id

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  name    = "emails-dead-letter-${local.suffix}"
  project = var.project_id

  depends_on = [google_project_service.apis]
}

# Keeps dead letters (a topic without a subscription drops them).
resource "google_pubsub_subscription" "dead_letter" {
  name    = "emails-dead-letter-${local.suffix}"
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.id

  ack_deadline_seconds       = 60
  message_retention_duration = local.dead_letter_retention
  retain_acked_messages      = false

  expiration_policy {
    ttl = "" # never expire, even when nobody pulls for a long time
  }
}

resource "google_pubsub_subscription" "processor" {
  name    = local.processor_subscription_name
  project = var.project_id
  topic   = google_pubsub_topic.emails.id

  ack_deadline_seconds       = local.processor_ack_deadline_seconds
  message_retention_duration = local.message_retention
  retain_acked_messages      = false

  # Redeliveries back off exponentially between these bounds.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.processor.service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.sa["push"].email
      audience              = google_cloudfunctions2_function.processor.service_config[0].uri
    }
  }

  expiration_policy {
    ttl = ""
  }

  lifecycle {
    precondition {
      condition     = local.processor_ack_deadline_seconds > var.processor_timeout_seconds
      error_message = "The processor subscription's ack deadline must exceed the processor timeout."
    }
  }

  # The push identity must be allowed to invoke the processor before the
  # first push, or the first deliveries fail with 403 and burn attempts.
  depends_on = [google_cloud_run_v2_service_iam_member.processor_push_invoker]
}
