output "webhook_url" {
  description = "Base URL of the public webhook function."
  value       = google_cloudfunctions2_function.webhook.service_config[0].uri
}

output "webhook_urls" {
  description = "Inbound webhook URL to configure at each provider (basic-auth credentials go into the SendGrid/Postmark URL, see docs/deploy.md)."
  value = {
    for route in ["mailgun", "sendgrid", "postmark", "raw"] :
    route => "${google_cloudfunctions2_function.webhook.service_config[0].uri}/${route}"
  }
}

output "processor_url" {
  description = "URL of the private processor function (Pub/Sub pushes here)."
  value       = google_cloudfunctions2_function.processor.service_config[0].uri
}

output "rollup_url" {
  description = "URL of the private rollup function (Cloud Scheduler calls it)."
  value       = google_cloudfunctions2_function.rollup.service_config[0].uri
}

output "raw_email_bucket" {
  description = "Bucket holding the raw inbound mail (RAW_EMAIL_BUCKET)."
  value       = google_storage_bucket.raw_email.name
}

output "source_bucket" {
  description = "Bucket holding the function source archives."
  value       = google_storage_bucket.sources.name
}

output "pubsub_topic" {
  description = "Topic the webhook publishes to (PUBSUB_TOPIC)."
  value       = google_pubsub_topic.emails.name
}

output "pubsub_subscription" {
  description = "Push subscription that delivers emails to the processor."
  value       = google_pubsub_subscription.processor.name
}

output "pubsub_dead_letter_topic" {
  description = "Dead-letter topic (PUBSUB_DEAD_LETTER_TOPIC)."
  value       = google_pubsub_topic.dead_letter.name
}

output "pubsub_dead_letter_subscription" {
  description = "Subscription keeping dead letters for inspection and replay (PUBSUB_DEAD_LETTER_SUBSCRIPTION)."
  value       = google_pubsub_subscription.dead_letter.name
}

output "instance_connection_name" {
  description = "Cloud SQL instance connection name (INSTANCE_CONNECTION_NAME)."
  value       = google_sql_database_instance.main.connection_name
}

output "database_name" {
  description = "Application database (DB_NAME)."
  value       = google_sql_database.app.name
}

output "database_users" {
  description = "IAM database users (DB_USER) of the processor, the rollup and the migrations (deployer)."
  value       = { for key, user in google_sql_user.iam : key => user.name }
}

output "service_accounts" {
  description = "Service account email of each identity."
  value       = { for key, account in google_service_account.sa : key => account.email }
}

output "secret_ids" {
  description = "Secret Manager secret id of each secret environment variable; add values with `gcloud secrets versions add`."
  value = merge(
    { for env_name, secret in google_secret_manager_secret.app : env_name => secret.secret_id },
    { CONSOLE_SECRET_KEY = google_secret_manager_secret.console_secret_key.secret_id },
  )
}

output "secret_versions" {
  description = "Secret Manager version each function reads, per secret (var.secret_versions): the smoke check signs with WEBHOOK_RAW_SECRET at this version, the one the webhook reads."
  value       = var.secret_versions
}

output "scheduler_job" {
  description = "Cloud Scheduler job that runs the nightly rollup."
  value       = google_cloud_scheduler_job.rollup.name
}

output "logs_query_template" {
  description = "Logs Explorer query that finds the whole story of one email; replace <ID> with its correlation id."
  value       = "jsonPayload.correlation_id=\"<ID>\""
}

output "dashboard_url" {
  description = "Cloud Monitoring dashboard."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${basename(google_monitoring_dashboard.main.id)}?project=${var.project_id}"
}

# What `python -m shared.ops` needs against this deployment, logged in as the
# deployer's IAM database user: the functions' own settings (same names and
# values) plus the ops CLI's. No secret value: MONGODB_URI is named only.
locals {
  ops_env = merge(local.common_env, local.db_env, {
    DB_USER                         = google_sql_user.iam["deployer"].name
    DB_POOL_SIZE                    = "1"
    DB_MAX_OVERFLOW                 = "1"
    CIRCUIT_BREAKER_STORE_POOL_SIZE = "1"
    MONGODB_DATABASE                = var.mongodb_database
    ROLLUP_SCHEDULER_JOB            = google_cloud_scheduler_job.rollup.name
    ROLLUP_SCHEDULER_LOCATION       = var.region
    ROLLUP_TIME_ZONE                = var.time_zone
  })
}

output "ops_env" {
  description = "KEY=VALUE lines for `python -m shared.ops --env-file` against this environment, as the deployer (impersonated: see docs, Ops commands). Holds no secret."
  value = join("", concat(
    ["# python -m shared.ops --env-file THIS_FILE ... (${var.environment}); ADC must impersonate ${google_service_account.sa["deployer"].email}\n"],
    [for key, value in local.ops_env : "${key}=${value}\n"],
    ["# MONGODB_URI is not here: it is the Secret Manager secret ${google_secret_manager_secret.app["MONGODB_URI"].secret_id} (shared.ops does not need it)\n"],
  ))
}

output "ci_image_repository" {
  description = "Artifact Registry path of the pipeline's CI image (cloudbuild.yaml _CI_IMAGE)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.ci.repository_id}"
}
