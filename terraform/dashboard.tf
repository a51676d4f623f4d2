# One Cloud Monitoring dashboard with the signals the alerts watch, plus the
# load on the functions and the database.

locals {
  dashboard_charts = [
    {
      title    = "Emails received, by provider"
      filter   = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.webhook_received.name}\" AND resource.type=\"cloud_run_revision\""
      aligner  = "ALIGN_SUM"
      group_by = ["metric.label.provider"]
    },
    {
      title    = "Processing errors, by stage"
      filter   = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.processing_errors.name}\" AND resource.type=\"cloud_run_revision\""
      aligner  = "ALIGN_SUM"
      group_by = ["metric.label.stage"]
    },
    {
      title    = "Breaker openings, by breaker"
      filter   = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.breaker_opened.name}\" AND resource.type=\"cloud_run_revision\""
      aligner  = "ALIGN_SUM"
      group_by = ["metric.label.breaker"]
    },
    {
      title    = "Processor backlog (undelivered messages)"
      filter   = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.processor.name}\""
      aligner  = "ALIGN_MAX"
      group_by = []
    },
    {
      title    = "Processor backlog age (oldest unacked, s)"
      filter   = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.processor.name}\""
      aligner  = "ALIGN_MAX"
      group_by = []
    },
    {
      title    = "Dead letters (undelivered messages)"
      filter   = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.dead_letter.name}\""
      aligner  = "ALIGN_MAX"
      group_by = []
    },
    {
      title    = "Rollup failures"
      filter   = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.rollup_failed.name}\""
      aligner  = "ALIGN_SUM"
      group_by = []
    },
    {
      title    = "Function requests, by function and status class"
      filter   = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=monitoring.regex.full_match(\"(${join("|", values(local.function_names))})\")"
      aligner  = "ALIGN_RATE"
      group_by = ["resource.label.service_name", "metric.label.response_code_class"]
    },
    {
      title    = "Function instances"
      filter   = "metric.type=\"run.googleapis.com/container/instance_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=monitoring.regex.full_match(\"(${join("|", values(local.function_names))})\")"
      aligner  = "ALIGN_MAX"
      group_by = ["resource.label.service_name"]
    },
    {
      title    = "Postgres connections"
      filter   = "metric.type=\"cloudsql.googleapis.com/database/postgresql/num_backends\" AND resource.type=\"cloudsql_database\" AND resource.labels.database_id=\"${var.project_id}:${google_sql_database_instance.main.name}\""
      aligner  = "ALIGN_MAX"
      group_by = []
    },
  ]
}

# The API drops zero values and empty lists from what it stores (a tile at
# xPos 0, an empty groupByFields), so writing them makes every plan show a
# diff (hashicorp/terraform-provider-google#16173). The tiles below leave out
# exactly those: a second plan is empty.
locals {
  dashboard_tiles = [
    for index, chart in local.dashboard_charts : merge(
      # position: only the non-zero coordinates
      { for axis, value in { xPos = (index % 2) * 6, yPos = floor(index / 2) * 4 } : axis => value if value != 0 },
      {
        width  = 6
        height = 4
        widget = {
          title = chart.title
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter = chart.filter
                  aggregation = merge(
                    {
                      alignmentPeriod    = "60s"
                      perSeriesAligner   = chart.aligner
                      crossSeriesReducer = "REDUCE_SUM"
                    },
                    # groupByFields only when there is something to group by
                    { for key, fields in { groupByFields = chart.group_by } : key => fields if length(fields) > 0 },
                  )
                }
              }
            }]
          }
        }
      },
    )
  ]
}

resource "google_monitoring_dashboard" "main" {
  project = var.project_id

  dashboard_json = jsonencode({
    displayName = "Inbound email (${var.environment})"
    mosaicLayout = {
      columns = 12
      tiles   = local.dashboard_tiles
    }
  })

  # Its charts use the log-based metrics (monitoring.tf).
  depends_on = [time_sleep.log_metrics_propagation]
}
