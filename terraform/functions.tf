# The three functions, deployed from the archives `make package` writes to
# dist/. The object name carries the archive's MD5, so a build with different
# content uploads a new object and redeploys; an identical build changes
# nothing.
#
# Connection budget (Postgres max_connections = var.sql_max_connections, 125
# by default). Each processor instance holds at most DB_POOL_SIZE +
# DB_MAX_OVERFLOW connections, with DB_POOL_SIZE = concurrency (one per
# request thread) and DB_MAX_OVERFLOW = 1 (metrics side work), plus the
# breaker store's own pool (CIRCUIT_BREAKER_STORE_POOL_SIZE = 1, no overflow:
# its short budget must never queue behind processing statements):
#
#   processor  max_instances x (pool + overflow + breaker) = 4 x (8 + 1 + 1) = 40
#   rollup     max_instances x (pool + overflow) = 1 x (2 + 0) =  2
#   console    max_instances x (pool + overflow + breaker) = 2 x (4 + 1 + 1) = 12
#   webhook    never connects to Postgres                     =  0
#   x 2 during a rollout (old instances keep their pools until they are
#       shut down, new ones open theirs)                        = 108
#   + migrations (Alembic, one connection, + 1 spare)           =  2
#   + one operator's `python -m shared.ops` (ops_env: 1 + 1 + 1) =  3
#   + connections Postgres reserves for superusers              =  3
#   = 116 < 125
#
# The precondition on the processor checks the same sum at plan time for
# whatever values the variables take.

locals {
  dist_dir = startswith(var.dist_dir, "/") ? var.dist_dir : "${path.module}/${var.dist_dir}"

  archives = {
    for fn in keys(local.function_names) : fn => "${local.dist_dir}/${fn}.zip"
  }
  archive_md5s = { for fn, path in local.archives : fn => filemd5(path) }

  # Each function's Sentry release names its archive, not the commit: a value
  # that changed with every commit would redeploy all three functions on every
  # push. "webhook@<first 12 hex of the archive MD5>" changes exactly when the
  # function's code (or its requirements.txt) does; the source object
  # "<fn>-<MD5>.zip" in the sources bucket is that release's code.
  sentry_releases = { for fn, md5 in local.archive_md5s : fn => "${fn}@${substr(md5, 0, 12)}" }

  processor_pool_size    = var.processor_concurrency
  processor_max_overflow = 1
  breaker_pool_size      = 1 # CIRCUIT_BREAKER_STORE_POOL_SIZE (processor and ops_env)
  rollup_pool_size       = 2
  rollup_max_overflow    = 0
  rollup_max_instances   = 1
  migration_connections  = 2
  ops_connections        = 3 # DB_POOL_SIZE + DB_MAX_OVERFLOW + breaker pool of local.ops_env
  reserved_connections   = 3

  db_connections_worst_case = 2 * (
    var.processor_max_instances * (
      local.processor_pool_size + local.processor_max_overflow + local.breaker_pool_size
    ) +
    local.rollup_max_instances * (local.rollup_pool_size + local.rollup_max_overflow) +
    local.console_max_instances * (
      local.console_pool_size + local.console_max_overflow + local.breaker_pool_size
    )
  ) + local.migration_connections + local.ops_connections + local.reserved_connections

  webhook_concurrency     = 16
  webhook_timeout_seconds = 60
  rollup_timeout_seconds  = 900 # Cloud Scheduler waits as long (max 1800)

  # Named here, not taken from the resource: the subscription pushes to the
  # processor, so the processor cannot depend on the subscription resource.
  processor_subscription_name = "emails-processor-${local.suffix}"

  # Non-secret settings every function reads.
  common_env = {
    APP_ENV                         = "production"
    GOOGLE_CLOUD_PROJECT            = var.project_id
    LOG_LEVEL                       = var.log_level
    SENTRY_ENVIRONMENT              = var.environment
    PUBSUB_TOPIC                    = google_pubsub_topic.emails.name
    PUBSUB_DEAD_LETTER_TOPIC        = google_pubsub_topic.dead_letter.name
    PUBSUB_DEAD_LETTER_SUBSCRIPTION = google_pubsub_subscription.dead_letter.name
    PUBSUB_PROCESSOR_SUBSCRIPTION   = local.processor_subscription_name
    RAW_EMAIL_BUCKET                = google_storage_bucket.raw_email.name
  }

  # Where Postgres is. The instance has only a public IP, reached through the
  # connector (see sql.tf), hence DB_IP_TYPE = PUBLIC.
  db_env = {
    INSTANCE_CONNECTION_NAME = google_sql_database_instance.main.connection_name
    DB_NAME                  = google_sql_database.app.name
    DB_IP_TYPE               = "PUBLIC"
  }

  # The SMTP relay: staff notifications (processor, the rollup's outbox sweep) and breaker
  # alerts (every function calling through the shared breakers: processor, console).
  smtp_env = {
    SMTP_HOST     = var.smtp_host
    SMTP_PORT     = tostring(var.smtp_port)
    SMTP_USERNAME = var.smtp_username
    SMTP_FROM     = var.smtp_from
  }

  # What opens a breaker and whom its alert goes to, alike in every function that may open one.
  breaker_env = {
    ADMIN_EMAIL                   = var.admin_email
    CIRCUIT_BREAKER_ALERT_EMAIL   = var.circuit_breaker_alert_email
    CIRCUIT_BREAKER_FAIL_MAX      = tostring(var.circuit_breaker_fail_max)
    CIRCUIT_BREAKER_RESET_TIMEOUT = tostring(var.circuit_breaker_reset_timeout)
  }
}

resource "google_storage_bucket_object" "source" {
  for_each = local.archives

  bucket = google_storage_bucket.sources.name
  name   = "${each.key}-${local.archive_md5s[each.key]}.zip"
  source = each.value
}

# --- webhook: public HTTP, authenticates providers itself -------------------

resource "google_cloudfunctions2_function" "webhook" {
  name        = local.function_names.webhook
  project     = var.project_id
  location    = var.region
  description = "Inbound email webhook: /mailgun, /sendgrid, /postmark, /raw."

  build_config {
    runtime         = "python311"
    entry_point     = "webhook"
    service_account = google_service_account.sa["build"].id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source["webhook"].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.sa["webhook"].email
    available_cpu                    = "1"
    available_memory                 = "2Gi" # up to 16 concurrent bodies of up to 30 MiB
    max_instance_request_concurrency = local.webhook_concurrency
    min_instance_count               = var.webhook_min_instances
    max_instance_count               = var.webhook_max_instances
    timeout_seconds                  = local.webhook_timeout_seconds
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true

    # No database settings: the webhook never touches Postgres (an outage of
    # the database loses no mail), and its service account has no Cloud SQL role.
    environment_variables = merge(local.common_env, {
      SENTRY_RELEASE         = local.sentry_releases.webhook
      THREADS                = tostring(local.webhook_concurrency)
      WEBHOOK_MAX_BODY_BYTES = tostring(var.webhook_max_body_bytes)
    })

    dynamic "secret_environment_variables" {
      for_each = toset(local.function_secrets.webhook)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.app[secret_environment_variables.value].secret_id
        # A pinned version (var.secret_versions): every instance of a
        # revision reads the same value; rotating is a deliberate apply.
        version = var.secret_versions[secret_environment_variables.value]
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.function_reads,
    # The build service account's roles must have propagated before the
    # first build fetches the source archive (iam.tf).
    time_sleep.build_iam_propagation,
  ]
}

# --- processor: private, called by the Pub/Sub push subscription -------------

resource "google_cloudfunctions2_function" "processor" {
  name        = local.function_names.processor
  project     = var.project_id
  location    = var.region
  description = "Processes one inbound email per Pub/Sub push delivery."

  build_config {
    runtime         = "python311"
    entry_point     = "process_email"
    service_account = google_service_account.sa["build"].id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source["processor"].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.sa["processor"].email
    available_cpu                    = "1"
    available_memory                 = "2Gi" # MIME + PDF text of concurrent emails
    max_instance_request_concurrency = var.processor_concurrency
    min_instance_count               = var.processor_min_instances
    max_instance_count               = var.processor_max_instances
    timeout_seconds                  = var.processor_timeout_seconds
    # Pub/Sub pushes from the same project count as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true

    environment_variables = merge(local.common_env, local.db_env, local.smtp_env, local.breaker_env, {
      SENTRY_RELEASE                  = local.sentry_releases.processor
      THREADS                         = tostring(var.processor_concurrency)
      DB_USER                         = google_sql_user.iam["processor"].name
      DB_POOL_SIZE                    = tostring(local.processor_pool_size)
      DB_MAX_OVERFLOW                 = tostring(local.processor_max_overflow)
      CIRCUIT_BREAKER_STORE_POOL_SIZE = tostring(local.breaker_pool_size)
      MONGODB_DATABASE                = var.mongodb_database
      CLAUDE_MODEL                    = var.claude_model
      METRICS_RETENTION_DAYS          = tostring(var.metrics_retention_days)
      # An email's processing lease outlives the longest attempt, so a
      # redelivery never takes an email a slow attempt is still working on.
      PROCESSOR_LEASE_SECONDS = tostring(var.processor_timeout_seconds + 60)
      # Claude failing an email on its last deliveries but one: the rules read
      # it (degraded) rather than the dead-letter topic taking it.
      PROCESSOR_CLAUDE_OUTAGE_FALLBACK_ATTEMPT = tostring(var.max_delivery_attempts - 1)
      # Staff notifications link to the review item (console.tf).
      CONSOLE_BASE_URL = local.console_enabled ? "https://${var.console_domain}" : ""
    })

    dynamic "secret_environment_variables" {
      for_each = toset(local.function_secrets.processor)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.app[secret_environment_variables.value].secret_id
        # A pinned version (var.secret_versions): every instance of a
        # revision reads the same value; rotating is a deliberate apply.
        version = var.secret_versions[secret_environment_variables.value]
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.db_connections_worst_case < var.sql_max_connections
      error_message = "Function pools could exceed Postgres max_connections: lower processor_max_instances / processor_concurrency or raise sql_max_connections (see functions.tf)."
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.function_reads,
    google_project_iam_member.sql_client,
    google_project_iam_member.sql_instance_user,
    # The build service account's roles must have propagated before the
    # first build fetches the source archive (iam.tf).
    time_sleep.build_iam_propagation,
  ]
}

# --- rollup: private, called nightly by Cloud Scheduler ----------------------

resource "google_cloudfunctions2_function" "rollup" {
  name        = local.function_names.rollup
  project     = var.project_id
  location    = var.region
  description = "Nightly rollup of raw operational metrics into daily aggregates."

  build_config {
    runtime         = "python311"
    entry_point     = "rollup"
    service_account = google_service_account.sa["build"].id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source["rollup"].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.sa["rollup"].email
    available_cpu                    = "1"
    available_memory                 = "1Gi"
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    max_instance_count               = local.rollup_max_instances
    timeout_seconds                  = local.rollup_timeout_seconds
    # Cloud Scheduler in the same project counts as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true

    # The outbox sweep (scheduler.tf) sends staff notifications like the processor.
    environment_variables = merge(local.common_env, local.db_env, local.smtp_env, {
      SENTRY_RELEASE         = local.sentry_releases.rollup
      THREADS                = "1" # = max_instance_request_concurrency
      DB_USER                = google_sql_user.iam["rollup"].name
      DB_POOL_SIZE           = tostring(local.rollup_pool_size)
      DB_MAX_OVERFLOW        = tostring(local.rollup_max_overflow)
      METRICS_RETENTION_DAYS = tostring(var.metrics_retention_days)
      ROLLUP_TIME_ZONE       = var.time_zone
      # Cloud Run checks Cloud Scheduler's OIDC token; the function checks its
      # claims again (audience, invoker) as defence in depth.
      ROLLUP_AUDIENCE         = local.rollup_audience
      ROLLUP_ALLOWED_INVOKERS = google_service_account.sa["scheduler"].email
    })

    dynamic "secret_environment_variables" {
      for_each = toset(local.function_secrets.rollup)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.app[secret_environment_variables.value].secret_id
        # A pinned version (var.secret_versions): every instance of a
        # revision reads the same value; rotating is a deliberate apply.
        version = var.secret_versions[secret_environment_variables.value]
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.function_reads,
    google_project_iam_member.sql_client,
    google_project_iam_member.sql_instance_user,
    # The build service account's roles must have propagated before the
    # first build fetches the source archive (iam.tf).
    time_sleep.build_iam_propagation,
  ]
}
