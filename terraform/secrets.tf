# Secret Manager secrets: the resources only. Their values are added outside
# Terraform (`gcloud secrets versions add`, see docs/deploy.md), so no secret
# value is ever in a .tf file, a variable or the Terraform state.

locals {
  # Environment variable name => secret. The functions receive each one as a
  # secret environment variable of the same name (see local.function_secrets).
  secret_names = [
    "ANTHROPIC_API_KEY",
    "SENTRY_DSN",
    "SMTP_PASSWORD",
    "MONGODB_URI",
    "WEBHOOK_MAILGUN_SIGNING_KEY",
    "WEBHOOK_SENDGRID_USERNAME",
    "WEBHOOK_SENDGRID_PASSWORD",
    "WEBHOOK_POSTMARK_USERNAME",
    "WEBHOOK_POSTMARK_PASSWORD",
    "WEBHOOK_RAW_SECRET",
  ]
}

resource "google_secret_manager_secret" "app" {
  for_each = toset(local.secret_names)

  project = var.project_id
  # e.g. ANTHROPIC_API_KEY -> anthropic-api-key-production
  secret_id = "${lower(replace(each.value, "_", "-"))}-${local.suffix}"

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  depends_on = [google_project_service.apis]
}
