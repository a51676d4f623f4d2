# The review console: staff work the emails the processor will not decide
# alone; operators see the system at a glance (shared/console, docs/console.md).
#
# Identity: Identity-Aware Proxy in front of the function. A global external
# HTTPS load balancer (serverless NEG -> backend service with IAP on) serves
# var.console_domain; only the principals in var.console_members pass IAP, and
# the function itself verifies IAP's signed header on every request against
# the backend service's audience (CONSOLE_IAP_AUDIENCE), so a request that
# reached it any other way is refused. Roles (reviewer, supervisor, operator)
# come from var.console_roles. The function accepts only internal and load
# balancer traffic (no public run.app URL), and only IAP's service agent may
# invoke it.
#
# Without var.console_domain the function is deployed but unreachable (no
# load balancer): set the domain, point its DNS at the console_ip output, and
# the managed certificate provisions itself.
#
# Connection budget: max_instances x (pool + overflow) = 2 x (4 + 1) = 10
# connections more than functions.tf counts; keep sql_max_connections with
# that margin (the default 100 leaves it).

variable "console_domain" {
  description = "Domain name the review console is served on (its DNS A record points at the console_ip output). Empty: no load balancer, the console is unreachable."
  type        = string
  default     = ""

  validation {
    condition     = var.console_domain == "" || can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.console_domain))
    error_message = "console_domain must be a DNS name such as console.example.com, or empty."
  }
}

variable "console_members" {
  description = "Principals IAP lets through to the console (user:, group:, domain:); their console roles come from console_roles."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.console_members : can(regex("^(user|group|domain):[^\\s]+$", m))])
    error_message = "console_members must be IAM principals such as group:collections-staff@example.com."
  }
}

variable "console_roles" {
  description = "CONSOLE_ROLES: email=role[,role];… with roles reviewer, supervisor, operator (an email IAP lets in but not listed here gets 403)."
  type        = string
  default     = ""

  validation {
    condition     = var.console_roles == "" || can(regex("^([^=;\\s]+=(reviewer|supervisor|operator)(,(reviewer|supervisor|operator))*;?)+$", var.console_roles))
    error_message = "console_roles must look like alice@example.com=reviewer;bob@example.com=supervisor,operator."
  }
}

locals {
  console_name          = "console-${local.suffix}"
  console_enabled       = var.console_domain != ""
  console_pool_size     = 4
  console_max_overflow  = 1
  console_max_instances = 2
  # SMTP_PASSWORD: a breaker the console's calls (or an operator) open alerts by mail, as the
  # processor's do
  console_secrets   = ["SENTRY_DSN", "MONGODB_URI", "ANTHROPIC_API_KEY", "SMTP_PASSWORD"]
  iap_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-iap.iam.gserviceaccount.com"
  console_iap_audience = (
    local.console_enabled
    ? "/projects/${data.google_project.this.number}/global/backendServices/${google_compute_backend_service.console[0].generated_id}"
    : ""
  )
}

# The load balancer and IAP (apis.tf enables the rest).
resource "google_project_service" "console_apis" {
  for_each = toset(["compute.googleapis.com", "iap.googleapis.com"])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# --- identity and what it may touch (least privilege) ----------------------

resource "google_service_account" "console" {
  project      = var.project_id
  account_id   = "console-${local.suffix}"
  display_name = "console (${var.environment})"
  description  = "Review console function: Cloud SQL IAM user, reads raw mail, MongoDB secret, dead-letter replay."

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "console_sql" {
  for_each = toset(["roles/cloudsql.client", "roles/cloudsql.instanceUser"])

  project = var.project_id
  role    = each.value
  member  = google_service_account.console.member

  # Like the other functions' (iam.tf): this environment's instance only, as
  # two environments may share a project.
  condition {
    title       = local.sql_instance_condition.title
    description = local.sql_instance_condition.description
    expression  = local.sql_instance_condition.expression
  }
}

resource "google_sql_user" "console" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.console.email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

# Attachments are read through the console, never by a public URL.
resource "google_storage_bucket_iam_member" "console_raw_read" {
  bucket = google_storage_bucket.raw_email.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.console.member
}

# Dead letters: list (pull, then release) and replay (publish to the main topic).
resource "google_pubsub_subscription_iam_member" "console_dead_letters" {
  subscription = google_pubsub_subscription.dead_letter.id
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.console.member
}

resource "google_pubsub_topic_iam_member" "console_replay" {
  topic  = google_pubsub_topic.emails.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.console.member
}

resource "google_secret_manager_secret_iam_member" "console_reads" {
  for_each = toset(local.console_secrets)

  secret_id = google_secret_manager_secret.app[each.value].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.console.member
}

# Signs the console's session cookie (CSRF token); its value is added outside
# Terraform like every secret: gcloud secrets versions add console-secret-key-<env>.
resource "google_secret_manager_secret" "console_secret_key" {
  project   = var.project_id
  secret_id = "console-secret-key-${local.suffix}"

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_iam_member" "console_reads_session_key" {
  secret_id = google_secret_manager_secret.console_secret_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.console.member
}

# --- the function -------------------------------------------------------------

resource "google_storage_bucket_object" "console_source" {
  bucket = google_storage_bucket.sources.name
  name   = "console-${filemd5("${local.dist_dir}/console.zip")}.zip"
  source = "${local.dist_dir}/console.zip"
}

resource "google_cloudfunctions2_function" "console" {
  name        = local.console_name
  project     = var.project_id
  location    = var.region
  description = "Review console: staff queue and actions, operator pages (behind IAP)."

  build_config {
    runtime         = "python311"
    entry_point     = "console"
    service_account = google_service_account.sa["build"].id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.console_source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.console.email
    available_cpu                    = "1"
    available_memory                 = "1Gi"
    max_instance_request_concurrency = local.console_pool_size
    min_instance_count               = 0
    max_instance_count               = local.console_max_instances
    timeout_seconds                  = 120
    ingress_settings                 = "ALLOW_INTERNAL_AND_GCLB"
    all_traffic_on_latest_revision   = true

    # The shared breakers open and alert alike from every function that calls through them.
    environment_variables = merge(local.common_env, local.db_env, local.smtp_env, local.breaker_env, {
      THREADS = tostring(local.console_pool_size)
      # Counted in the connection budget (functions.tf), like the processor's.
      CIRCUIT_BREAKER_STORE_POOL_SIZE = tostring(local.breaker_pool_size)
      SENTRY_RELEASE                  = "console@${substr(filemd5("${local.dist_dir}/console.zip"), 0, 12)}"
      DB_USER                         = google_sql_user.console.name
      DB_POOL_SIZE                    = tostring(local.console_pool_size)
      DB_MAX_OVERFLOW                 = tostring(local.console_max_overflow)
      MONGODB_DATABASE                = var.mongodb_database
      CLAUDE_MODEL                    = var.claude_model
      CONSOLE_ROLES                   = var.console_roles
      CONSOLE_IAP_AUDIENCE            = local.console_iap_audience
      CONSOLE_BASE_URL                = local.console_enabled ? "https://${var.console_domain}" : ""
    })

    dynamic "secret_environment_variables" {
      for_each = toset(local.console_secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.app[secret_environment_variables.value].secret_id
        version    = var.secret_versions[secret_environment_variables.value]
      }
    }

    secret_environment_variables {
      key        = "CONSOLE_SECRET_KEY"
      project_id = var.project_id
      secret     = google_secret_manager_secret.console_secret_key.secret_id
      # Pinned like every secret (var.secret_versions): all instances sign alike.
      version = var.secret_versions["CONSOLE_SECRET_KEY"]
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.console_reads,
    google_secret_manager_secret_iam_member.console_reads_session_key,
    google_project_iam_member.console_sql,
    # The build service account's roles must have propagated before the
    # first build fetches the source archive (iam.tf).
    time_sleep.build_iam_propagation,
  ]
}

# IAP's service agent does not exist until IAP is enabled and the agent is
# generated; granting it anything before fails ("Service account ... does not
# exist"), as for the Pub/Sub agent (iam.tf). Beta provider only.
resource "google_project_service_identity" "iap" {
  provider = google-beta

  project = var.project_id
  service = "iap.googleapis.com"

  depends_on = [google_project_service.console_apis]
}

# Only IAP (its service agent) may invoke the console: no public invoker.
resource "google_cloud_run_v2_service_iam_member" "console_iap_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.console.name
  role     = "roles/run.invoker"
  member   = local.iap_service_agent

  depends_on = [google_project_service_identity.iap]
}

# --- Identity-Aware Proxy behind a global HTTPS load balancer ----------------

resource "google_compute_region_network_endpoint_group" "console" {
  count = local.console_enabled ? 1 : 0

  project               = var.project_id
  name                  = "console-neg-${local.suffix}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_function {
    function = local.console_name # the name, not the resource: no cycle via the audience
  }

  depends_on = [google_project_service.console_apis]
}

resource "google_compute_backend_service" "console" {
  count = local.console_enabled ? 1 : 0

  project               = var.project_id
  name                  = "console-${local.suffix}"
  protocol              = "HTTPS"
  load_balancing_scheme = "EXTERNAL_MANAGED"

  backend {
    group = google_compute_region_network_endpoint_group.console[0].id
  }

  # Google-managed OAuth client: no client secret in Terraform or its state.
  iap {
    enabled = true
  }
}

resource "google_iap_web_backend_service_iam_member" "console_members" {
  for_each = local.console_enabled ? toset(var.console_members) : toset([])

  project             = var.project_id
  web_backend_service = google_compute_backend_service.console[0].name
  role                = "roles/iap.httpsResourceAccessor"
  member              = each.value
}

resource "google_compute_global_address" "console" {
  count = local.console_enabled ? 1 : 0

  project = var.project_id
  name    = "console-${local.suffix}"

  # Created before the Compute API is on, it fails on a fresh project.
  depends_on = [google_project_service.console_apis]
}

resource "google_compute_managed_ssl_certificate" "console" {
  count = local.console_enabled ? 1 : 0

  project = var.project_id
  name    = "console-${local.suffix}"

  managed {
    domains = [var.console_domain]
  }

  depends_on = [google_project_service.console_apis]
}

resource "google_compute_url_map" "console" {
  count = local.console_enabled ? 1 : 0

  project         = var.project_id
  name            = "console-${local.suffix}"
  default_service = google_compute_backend_service.console[0].id
}

resource "google_compute_target_https_proxy" "console" {
  count = local.console_enabled ? 1 : 0

  project          = var.project_id
  name             = "console-${local.suffix}"
  url_map          = google_compute_url_map.console[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.console[0].id]
}

resource "google_compute_global_forwarding_rule" "console" {
  count = local.console_enabled ? 1 : 0

  project               = var.project_id
  name                  = "console-${local.suffix}"
  target                = google_compute_target_https_proxy.console[0].id
  ip_address            = google_compute_global_address.console[0].id
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

# --- outputs --------------------------------------------------------------------

output "console_url" {
  description = "The review console's address (behind IAP); empty until console_domain is set."
  value       = local.console_enabled ? "https://${var.console_domain}/" : ""
}

output "console_ip" {
  description = "IP address the console_domain DNS A record must point at."
  value       = local.console_enabled ? google_compute_global_address.console[0].address : ""
}

output "console_database_user" {
  description = "IAM database user (DB_USER) of the console; the pipeline grants it table access after each migration."
  value       = google_sql_user.console.name
}
