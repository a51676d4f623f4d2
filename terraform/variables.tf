# ---------------------------------------------------------------------------
# Project and placement
# ---------------------------------------------------------------------------

variable "project_id" {
  description = "GCP project id that hosts the whole system."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid GCP project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region for the functions, Cloud SQL, the buckets, Cloud Scheduler (e.g. europe-west1)."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must look like a GCP region, e.g. europe-west1."
  }
}

variable "environment" {
  description = "Environment name (production, staging, ...). Suffixes every resource name and is the Sentry environment."
  type        = string
  default     = "production"

  validation {
    # Service account ids are limited to 30 characters: "processor-" + 12 fits.
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lowercase letters or digits, starting with a letter."
  }
}

variable "dist_dir" {
  description = "Directory holding the function archives built by `make package` (webhook.zip, processor.zip, rollup.zip). Relative paths are resolved from the terraform/ directory."
  type        = string
  default     = "../dist"
}

# ---------------------------------------------------------------------------
# People and external services (non-secret settings)
# ---------------------------------------------------------------------------

variable "ops_email" {
  description = "Email address of the on-call/ops mailbox that receives Cloud Monitoring alerts."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.ops_email))
    error_message = "ops_email must be an email address."
  }
}

variable "admin_email" {
  description = "ADMIN_EMAIL: staff mailbox that receives account-update notifications."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.admin_email))
    error_message = "admin_email must be an email address."
  }
}

variable "circuit_breaker_alert_email" {
  description = "CIRCUIT_BREAKER_ALERT_EMAIL: who is emailed (once per opening) when a circuit breaker opens."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.circuit_breaker_alert_email))
    error_message = "circuit_breaker_alert_email must be an email address."
  }
}

variable "circuit_breaker_fail_max" {
  description = "CIRCUIT_BREAKER_FAIL_MAX: consecutive dependency failures (across all instances) that open a breaker."
  type        = number
  default     = 5

  validation {
    condition     = var.circuit_breaker_fail_max >= 1 && var.circuit_breaker_fail_max <= 100
    error_message = "circuit_breaker_fail_max must be between 1 and 100."
  }
}

variable "circuit_breaker_reset_timeout" {
  description = "CIRCUIT_BREAKER_RESET_TIMEOUT: seconds an open breaker waits before one half-open trial call."
  type        = number
  default     = 60

  validation {
    condition     = var.circuit_breaker_reset_timeout >= 1 && var.circuit_breaker_reset_timeout <= 3600
    error_message = "circuit_breaker_reset_timeout must be between 1 and 3600 seconds."
  }
}

variable "smtp_host" {
  description = "SMTP_HOST: SMTP relay used for staff notifications and breaker alerts."
  type        = string

  validation {
    condition     = length(var.smtp_host) > 0
    error_message = "smtp_host must not be empty."
  }
}

variable "smtp_port" {
  description = "SMTP_PORT: SMTP relay port (587 = submission with STARTTLS)."
  type        = number
  default     = 587

  validation {
    condition     = var.smtp_port > 0 && var.smtp_port < 65536
    error_message = "smtp_port must be a TCP port number."
  }
}

variable "smtp_username" {
  description = "SMTP_USERNAME: SMTP login (the password is the SMTP_PASSWORD secret, never a variable)."
  type        = string
}

variable "smtp_from" {
  description = "SMTP_FROM: sender address of notifications and alerts."
  type        = string

  validation {
    condition     = can(regex("@", var.smtp_from))
    error_message = "smtp_from must contain an email address."
  }
}

variable "mongodb_database" {
  description = "MONGODB_DATABASE: database name of the client (debtor accounts) MongoDB; its URI is the MONGODB_URI secret."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,63}$", var.mongodb_database))
    error_message = "mongodb_database must be 1-63 letters, digits, '_' or '-'."
  }
}

variable "claude_model" {
  description = "CLAUDE_MODEL: Anthropic model id used for extraction."
  type        = string

  validation {
    condition     = can(regex("^claude-[a-z0-9.-]+$", var.claude_model))
    error_message = "claude_model must be an Anthropic model id starting with 'claude-'."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "time_zone" {
  description = "IANA time zone of the nightly rollup: the Cloud Scheduler job runs at 01:30 there and ROLLUP_TIME_ZONE cuts days there."
  type        = string
  default     = "Europe/Berlin"

  validation {
    condition     = can(regex("^(UTC|[A-Za-z_]+/[A-Za-z0-9_+/-]+)$", var.time_zone))
    error_message = "time_zone must be an IANA time zone name such as Europe/Berlin or UTC."
  }
}

variable "metrics_retention_days" {
  description = "METRICS_RETENTION_DAYS: raw operational metrics older than this are deleted by the nightly rollup."
  type        = number
  default     = 30

  validation {
    condition     = var.metrics_retention_days >= 1 && var.metrics_retention_days <= 3650
    error_message = "metrics_retention_days must be between 1 and 3650."
  }
}

# ---------------------------------------------------------------------------
# Storage and messaging
# ---------------------------------------------------------------------------

variable "raw_email_retention_days" {
  description = "Legal retention of raw inbound mail in the raw-email bucket, in days: the bucket's retention policy forbids deleting or overwriting an object younger than this, and a lifecycle rule deletes it after (default 3 years)."
  type        = number
  default     = 1095

  validation {
    condition     = var.raw_email_retention_days >= 30
    error_message = "raw_email_retention_days must be at least 30 days."
  }
}

variable "rejected_request_retention_days" {
  description = "Days the raw-email bucket keeps bodies of authenticated webhook requests refused as malformed (rejected/), for an operator to replay; then they are deleted. Each is a real email that was never processed, so the default is the mail retention (3 years)."
  type        = number
  default     = 1095

  validation {
    condition     = var.rejected_request_retention_days >= 7
    error_message = "rejected_request_retention_days must be at least 7 days."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one message to the processor before Pub/Sub moves it to the dead-letter topic."
  type        = number
  default     = 10

  validation {
    # Pub/Sub's own limits for dead_letter_policy.max_delivery_attempts.
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "backlog_alert_age_seconds" {
  description = "Alert when the oldest unacknowledged message on the processor subscription is older than this many seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.backlog_alert_age_seconds >= 60
    error_message = "backlog_alert_age_seconds must be at least 60."
  }
}

# ---------------------------------------------------------------------------
# Cloud SQL
# ---------------------------------------------------------------------------

variable "db_name" {
  description = "DB_NAME: the application database inside the Cloud SQL instance."
  type        = string
  default     = "inbound_email"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must be a lowercase Postgres identifier."
  }
}

variable "sql_tier" {
  description = "Cloud SQL machine tier. Its memory sets Postgres' default connection limit; sql_max_connections sets it explicitly."
  type        = string
  default     = "db-custom-1-3840"

  validation {
    condition     = can(regex("^db-(custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+|g1-small|f1-micro)$", var.sql_tier))
    error_message = "sql_tier must be a Cloud SQL tier such as db-custom-1-3840."
  }
}

variable "sql_max_connections" {
  description = "Postgres max_connections flag. Must exceed the worst case of all function pools (checked at plan time)."
  type        = number
  default     = 125

  validation {
    condition     = var.sql_max_connections >= 25 && var.sql_max_connections <= 1000
    error_message = "sql_max_connections must be between 25 and 1000."
  }
}

variable "sql_availability_type" {
  description = "Cloud SQL availability: REGIONAL (high availability, recommended for production) or ZONAL."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.sql_availability_type)
    error_message = "sql_availability_type must be REGIONAL or ZONAL."
  }
}

variable "sql_backup_retained_count" {
  description = "Number of automated daily Cloud SQL backups kept."
  type        = number
  default     = 14

  validation {
    condition     = var.sql_backup_retained_count >= 1 && var.sql_backup_retained_count <= 365
    error_message = "sql_backup_retained_count must be between 1 and 365."
  }
}

variable "sql_deletion_protection" {
  description = "Deletion protection on the Cloud SQL instance (both Terraform's and the API's). Leave true outside throw-away projects."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------
# Function sizing (see the connection arithmetic in functions.tf)
# ---------------------------------------------------------------------------

variable "webhook_min_instances" {
  description = "Instances of the webhook kept warm (0 = scale to zero; providers retry, so a cold start loses nothing)."
  type        = number
  default     = 0

  validation {
    condition     = var.webhook_min_instances >= 0 && var.webhook_min_instances <= 10
    error_message = "webhook_min_instances must be between 0 and 10."
  }
}

variable "webhook_max_instances" {
  description = "Upper bound on webhook instances (the webhook never connects to Postgres)."
  type        = number
  default     = 20

  validation {
    condition     = var.webhook_max_instances >= 1 && var.webhook_max_instances <= 1000
    error_message = "webhook_max_instances must be between 1 and 1000."
  }
}

variable "webhook_max_body_bytes" {
  description = "WEBHOOK_MAX_BODY_BYTES: largest accepted request body; Cloud Run caps HTTP/1 requests at 32 MiB."
  type        = number
  default     = 31457280

  validation {
    condition     = var.webhook_max_body_bytes >= 1048576 && var.webhook_max_body_bytes <= 33554432
    error_message = "webhook_max_body_bytes must be between 1 MiB and 32 MiB."
  }
}

variable "processor_min_instances" {
  description = "Processor instances kept warm."
  type        = number
  default     = 0

  validation {
    condition     = var.processor_min_instances >= 0 && var.processor_min_instances <= 10
    error_message = "processor_min_instances must be between 0 and 10."
  }
}

variable "processor_max_instances" {
  description = "Upper bound on processor instances; each holds up to DB_POOL_SIZE + DB_MAX_OVERFLOW Postgres connections."
  type        = number
  default     = 4

  validation {
    condition     = var.processor_max_instances >= 1 && var.processor_max_instances <= 100
    error_message = "processor_max_instances must be between 1 and 100."
  }
}

variable "processor_concurrency" {
  description = "Concurrent requests (emails) per processor instance: max_instance_request_concurrency and THREADS."
  type        = number
  default     = 8

  validation {
    condition     = var.processor_concurrency >= 1 && var.processor_concurrency <= 32
    error_message = "processor_concurrency must be between 1 and 32."
  }
}

variable "processor_timeout_seconds" {
  description = "Processor request timeout. Stays below the subscription's 600 s ack deadline so Pub/Sub never redelivers a message still being worked on; PROCESSOR_LEASE_SECONDS is set to this + 60."
  type        = number
  default     = 300

  validation {
    condition     = var.processor_timeout_seconds >= 60 && var.processor_timeout_seconds <= 540
    error_message = "processor_timeout_seconds must be between 60 and 540 (the ack deadline is 600)."
  }
}

# ---------------------------------------------------------------------------
# Deployment pipeline and operators
# ---------------------------------------------------------------------------

variable "ops_principals" {
  description = "Who may run `python -m shared.ops` against this environment: principals (user:, group:, serviceAccount:) given roles/iam.serviceAccountTokenCreator on the deployer service account, to impersonate it (docs: Ops commands). That is deploy-level access: list only people who may deploy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for principal in var.ops_principals : can(regex("^(user|group|serviceAccount):[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", principal))])
    error_message = "ops_principals must be IAM principals such as user:alice@example.com or group:ops@example.com."
  }
}

variable "deployer_project_roles" {
  description = "Project roles of the deployer service account that runs cloudbuild.yaml (terraform apply, migrations, smoke check). Each is explained in docs/deploy.md (\"What the deployer may do\"); nothing broader than these, no roles/editor or owner."
  type        = list(string)
  default = [
    "roles/serviceusage.serviceUsageAdmin",  # enable APIs, create the Pub/Sub service agent
    "roles/iam.serviceAccountAdmin",         # create the service accounts, grants on them
    "roles/iam.serviceAccountUser",          # deploy functions / jobs / pushes that run as them
    "roles/resourcemanager.projectIamAdmin", # project-level grants, limited by a condition (iam.tf)
    "roles/cloudfunctions.developer",        # create and update the three functions
    "roles/run.admin",                       # invoker grants on the functions' Cloud Run services
    "roles/storage.admin",                   # buckets, their IAM, source archives, Terraform state
    "roles/pubsub.admin",                    # topics, subscriptions and their IAM
    "roles/secretmanager.admin",             # secrets and who may read them
    "roles/cloudsql.admin",                  # the instance, the database, the IAM database users
    "roles/cloudscheduler.admin",            # the rollup and outbox-sweep jobs
    "roles/logging.configWriter",            # log-based metrics
    "roles/monitoring.editor",               # alert policies, notification channel, dashboard
    "roles/artifactregistry.admin",          # the CI image repository and its IAM
    "roles/logging.logWriter",               # the build's own logs (CLOUD_LOGGING_ONLY)
    "roles/compute.loadBalancerAdmin",       # the console's load balancer (console.tf)
    "roles/iap.admin",                       # IAP on the console's backend, who passes it
  ]

  validation {
    condition     = alltrue([for role in var.deployer_project_roles : startswith(role, "roles/")])
    error_message = "deployer_project_roles must be role names starting with 'roles/'."
  }

  validation {
    condition     = length(setintersection(var.deployer_project_roles, ["roles/owner", "roles/editor"])) == 0
    error_message = "The deployer must not be owner or editor: list the narrow roles terraform apply needs."
  }
}

variable "webhook_public_access" {
  description = "How providers reach the public webhook. \"all_users\" grants roles/run.invoker to allUsers (the default). \"invoker_iam_check_disabled\" grants nothing and switches off Cloud Run's invoker IAM check on the webhook's service instead: use it when the organisation enforces Domain Restricted Sharing (iam.allowedPolicyMemberDomains, on by default for organisations created since May 2024), which refuses allUsers. Either way the webhook authenticates every request itself."
  type        = string
  default     = "all_users"

  validation {
    condition     = contains(["all_users", "invoker_iam_check_disabled"], var.webhook_public_access)
    error_message = "webhook_public_access must be all_users or invoker_iam_check_disabled."
  }
}

variable "secret_versions" {
  description = "Secret Manager version each function reads, per secret (environment variable name => version number). Pinned, never \"latest\": all instances of a revision read the same value, and a rotation is an apply (docs/deploy.md, \"Rotating a secret\"). Version 1 is the first value added."
  type        = map(string)
  default = {
    ANTHROPIC_API_KEY           = "1"
    SENTRY_DSN                  = "1"
    SMTP_PASSWORD               = "1"
    MONGODB_URI                 = "1"
    WEBHOOK_MAILGUN_SIGNING_KEY = "1"
    WEBHOOK_SENDGRID_USERNAME   = "1"
    WEBHOOK_SENDGRID_PASSWORD   = "1"
    WEBHOOK_POSTMARK_USERNAME   = "1"
    WEBHOOK_POSTMARK_PASSWORD   = "1"
    WEBHOOK_RAW_SECRET          = "1"
    CONSOLE_SECRET_KEY          = "1"
  }

  validation {
    condition     = alltrue([for version in values(var.secret_versions) : can(regex("^[1-9][0-9]*$", version))])
    error_message = "secret_versions values must be version numbers (1, 2, ...), never \"latest\"."
  }

  validation {
    condition = length(setsubtract([
      "ANTHROPIC_API_KEY", "SENTRY_DSN", "SMTP_PASSWORD", "MONGODB_URI",
      "WEBHOOK_MAILGUN_SIGNING_KEY", "WEBHOOK_SENDGRID_USERNAME", "WEBHOOK_SENDGRID_PASSWORD",
      "WEBHOOK_POSTMARK_USERNAME", "WEBHOOK_POSTMARK_PASSWORD", "WEBHOOK_RAW_SECRET",
      "CONSOLE_SECRET_KEY",
    ], keys(var.secret_versions))) == 0
    error_message = "secret_versions needs a version for every secret (see its default)."
  }
}
