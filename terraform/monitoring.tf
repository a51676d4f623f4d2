# Log-based metrics from the functions' structured JSON logs, the alerts an
# operator must see, and one dashboard for the same signals.

locals {
  run_service_filter = {
    for fn, name in local.function_names :
    fn => "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${name}\""
  }

  log_metric_prefix = "logging.googleapis.com/user"

  # Outbox sweeps refused while the nightly rollup (timeout 900 s) holds the
  # rollup function's single instance: at most 900 / 300 = 3.
  outbox_sweep_failures_tolerated = ceil(local.rollup_timeout_seconds / 300)
}

# --- log-based metrics -------------------------------------------------------------

resource "google_logging_metric" "webhook_received" {
  name        = "webhook_received_${local.suffix}"
  project     = var.project_id
  description = "Inbound emails accepted by the webhook, by provider."
  filter      = "${local.run_service_filter.webhook} AND jsonPayload.message=\"webhook_received\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "provider"
      value_type  = "STRING"
      description = "mailgun, sendgrid, postmark or raw"
    }
  }

  label_extractors = {
    provider = "EXTRACT(jsonPayload.provider)"
  }

  depends_on = [google_project_service.apis]
}

resource "google_logging_metric" "processing_errors" {
  name        = "processing_errors_${local.suffix}"
  project     = var.project_id
  description = "Processor errors, by pipeline stage and error type."
  # The processor's error events: a transient failure (redelivered), a permanent one (failed
  # report) and a crash (a bug: redelivered, then dead-lettered).
  filter = "${local.run_service_filter.processor} AND jsonPayload.message=(\"email_retry\" OR \"email_failed\" OR \"delivery_crashed\")"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "error_type"
      value_type  = "STRING"
      description = "Exception class of the error"
    }

    labels {
      key         = "stage"
      value_type  = "STRING"
      description = "Pipeline stage that failed"
    }
  }

  label_extractors = {
    error_type = "EXTRACT(jsonPayload.error_type)"
    stage      = "EXTRACT(jsonPayload.stage)"
  }

  depends_on = [google_project_service.apis]
}

resource "google_logging_metric" "breaker_opened" {
  name        = "breaker_opened_${local.suffix}"
  project     = var.project_id
  description = "Circuit breaker openings, by breaker (claude, mongodb, gcs)."
  filter      = "${local.run_service_filter.processor} AND jsonPayload.message=\"breaker_opened\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "breaker"
      value_type  = "STRING"
      description = "Name of the breaker that opened"
    }
  }

  label_extractors = {
    breaker = "EXTRACT(jsonPayload.breaker)"
  }

  depends_on = [google_project_service.apis]
}

# A rollup fails either inside the function (it logs rollup_failed) or before
# it: the Cloud Scheduler attempt itself errors (timeout, 5xx, 403).
resource "google_logging_metric" "rollup_failed" {
  name        = "rollup_failed_${local.suffix}"
  project     = var.project_id
  description = "Failed nightly rollups (function log line or failed Cloud Scheduler attempt)."
  filter = join(" OR ", [
    "(${local.run_service_filter.rollup} AND jsonPayload.message=\"rollup_failed\")",
    "(resource.type=\"cloud_scheduler_job\" AND resource.labels.job_id=\"${google_cloud_scheduler_job.rollup.name}\" AND severity>=ERROR)",
  ])

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.apis]
}

# A staff notification the outbox gave up on, or a compliance alert still unsent
# after the give-up age (the outbox retries those forever): both logged at ERROR,
# by the processor (its own sends and sweeps) and by the rollup function (the
# 5-minute outbox sweep, scheduler.tf: in a quiet period the only sender).
resource "google_logging_metric" "notification_failed" {
  name        = "notification_failed_${local.suffix}"
  project     = var.project_id
  description = "Staff notifications given up on, and compliance alerts overdue."
  filter      = "(${local.run_service_filter.processor} OR ${local.run_service_filter.rollup}) AND severity>=ERROR AND jsonPayload.message=(\"notification_failed\" OR \"notification_send_failed\")"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.apis]
}

# The outbox sweep itself failing: inside the function (outbox_sweep_failed,
# e.g. Postgres unreachable) or before it (the Cloud Scheduler attempt errors:
# 403, 5xx, refused while the nightly rollup holds the function's one instance).
resource "google_logging_metric" "outbox_sweep_failed" {
  name        = "outbox_sweep_failed_${local.suffix}"
  project     = var.project_id
  description = "Failed outbox sweeps (function log line or failed Cloud Scheduler attempt)."
  filter = join(" OR ", [
    "(${local.run_service_filter.rollup} AND jsonPayload.message=\"outbox_sweep_failed\")",
    "(resource.type=\"cloud_scheduler_job\" AND resource.labels.job_id=\"${google_cloud_scheduler_job.outbox_sweep.name}\" AND severity>=ERROR)",
  ])

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.apis]
}

# A log-based metric is not usable in an alert policy until Cloud Monitoring
# knows it: creating the policy in the same apply fails with 404 "Cannot find
# metric(s) ... it could take up to 10 minutes" (an open provider bug,
# hashicorp/terraform-provider-google#11102). The policies on these metrics wait for this; it
# waits again only when a log-based metric is added or renamed.
resource "time_sleep" "log_metrics_propagation" {
  create_duration = "600s"

  triggers = {
    metrics = join(",", [
      google_logging_metric.webhook_received.id,
      google_logging_metric.processing_errors.id,
      google_logging_metric.breaker_opened.id,
      google_logging_metric.rollup_failed.id,
      google_logging_metric.notification_failed.id,
      google_logging_metric.outbox_sweep_failed.id,
    ])
  }
}

# --- where alerts go -------------------------------------------------------------------

resource "google_monitoring_notification_channel" "ops_email" {
  project      = var.project_id
  display_name = "Ops email (${var.environment})"
  type         = "email"

  labels = {
    email_address = var.ops_email
  }

  depends_on = [google_project_service.apis]
}

# --- alert policies -------------------------------------------------------------------

resource "google_monitoring_alert_policy" "breaker_opened" {
  project      = var.project_id
  display_name = "Circuit breaker opened (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "A breaker opened"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.breaker_opened.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.breaker"]
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A dependency (label `breaker`: claude, mongodb or gcs) failed ${var.circuit_breaker_fail_max} times in a row. Emails keep flowing (fallback extractor or Pub/Sub redelivery). Check the dependency's status, then the processor logs: `jsonPayload.message=\"breaker_opened\"`."
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = [google_monitoring_notification_channel.ops_email.id]

  depends_on = [time_sleep.log_metrics_propagation]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project      = var.project_id
  display_name = "Emails in the dead-letter subscription (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "Dead-letter subscription is not empty"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.dead_letter.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An email failed ${var.max_delivery_attempts} deliveries to the processor and was dead-lettered to `${google_pubsub_subscription.dead_letter.name}`. Nothing is lost: find the cause with the message's `correlation_id` attribute (`jsonPayload.correlation_id=\"<ID>\"`), fix it, then replay the message (ops command, see README)."
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = [google_monitoring_notification_channel.ops_email.id]
}

# The backlog alert above stays open while any dead letter waits, so a second
# one would page nobody: this one fires for each period in which emails were
# newly dead-lettered (counted on the processor's subscription, where Pub/Sub
# forwards them from).
resource "google_monitoring_alert_policy" "dead_letters_new" {
  project      = var.project_id
  display_name = "Emails newly dead-lettered (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "Emails were forwarded to the dead-letter topic"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.processor.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More emails failed ${var.max_delivery_attempts} deliveries to the processor and were dead-lettered to `${google_pubsub_subscription.dead_letter.name}` (this fires again for every five minutes with new ones, even while older dead letters are still waiting). Find the cause with each message's `correlation_id` attribute (`jsonPayload.correlation_id=\"<ID>\"`), fix it, then replay the messages (ops command, see README)."
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = [google_monitoring_notification_channel.ops_email.id]
}

resource "google_monitoring_alert_policy" "backlog_age" {
  project      = var.project_id
  display_name = "Processor backlog is old (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "Oldest unacked message older than ${var.backlog_alert_age_seconds}s"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.processor.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.backlog_alert_age_seconds
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The processor is not keeping up or keeps failing: emails wait longer than ${var.backlog_alert_age_seconds} s. Look at the dashboard (processing errors, open breakers, processor instances at max) and the processor logs."
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = [google_monitoring_notification_channel.ops_email.id]
}

resource "google_monitoring_alert_policy" "rollup_failed" {
  project      = var.project_id
  display_name = "Nightly rollup failed (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "Rollup function logged rollup_failed"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.rollup_failed.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  conditions {
    display_name = "Cloud Scheduler attempt failed"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.rollup_failed.name}\" AND resource.type=\"cloud_scheduler_job\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The nightly rollup failed. It catches up on missed days on its next run; run it now with `gcloud scheduler jobs run ${google_cloud_scheduler_job.rollup.name} --location=${var.region}` once the cause (rollup logs: `jsonPayload.message=\"rollup_failed\"`) is fixed."
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = [google_monitoring_notification_channel.ops_email.id]

  depends_on = [time_sleep.log_metrics_propagation]
}

resource "google_monitoring_alert_policy" "notification_failed" {
  project      = var.project_id
  display_name = "Staff notification not delivered (${var.environment})"
  combiner     = "OR"

  conditions {
    display_name = "A notification was given up on, or a compliance alert is overdue"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.notification_failed.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  # A sweep runs every 5 minutes; the nightly rollup (at most 15 minutes) can
  # refuse at most 3 of them, and one failed inside the function counts on both
  # sides (its 500 fails the Scheduler attempt too). More than 3 failures in
  # 30 minutes on either side is an outage. One condition per resource type,
  # like the rollup's.
  conditions {
    display_name = "Outbox sweep logged outbox_sweep_failed repeatedly"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.outbox_sweep_failed.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.outbox_sweep_failures_tolerated
      duration        = "0s"

      aggregations {
        alignment_period     = "1800s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  conditions {
    display_name = "Outbox sweep Cloud Scheduler attempts keep failing"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.outbox_sweep_failed.name}\" AND resource.type=\"cloud_scheduler_job\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.outbox_sweep_failures_tolerated
      duration        = "0s"

      aggregations {
        alignment_period     = "1800s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Either the SMTP relay has refused staff notifications for days, or the 5-minute outbox sweep keeps failing (rollup logs: `jsonPayload.message=\"outbox_sweep_failed\"`, usually Postgres unreachable; or the `${google_cloud_scheduler_job.outbox_sweep.name}` Cloud Scheduler attempts fail). Compliance alerts (disputes, cease-and-desist, bankruptcy) keep being retried; others were marked failed. Check the relay, then the outbox: `SELECT kind, status, attempts, next_attempt_at FROM notifications WHERE status <> 'sent'`. Logs: `jsonPayload.message=\"notification_failed\"`."
  }

  alert_strategy {
    auto_close = "86400s"
  }

  notification_channels = [google_monitoring_notification_channel.ops_email.id]

  depends_on = [time_sleep.log_metrics_propagation]
}
