# Cloud SQL for PostgreSQL 15, reached only through the Cloud SQL connector
# (cloud-sql-python-connector in the functions and in the migrations step)
# with IAM database authentication: no passwords anywhere.
#
# Network: the instance has a public IP with no authorized networks and
# connector enforcement REQUIRED, so nothing can open a plain TCP connection
# to it; every connection is mutual TLS brokered by the Cloud SQL Admin API
# after an IAM check (roles/cloudsql.client). This keeps the functions and
# the Cloud Build default pool free of VPC plumbing. Private IP only is a
# further hardening step (needs a VPC connector on the functions and a private
# Cloud Build pool); see docs/deploy.md.

resource "google_sql_database_instance" "main" {
  name             = "inbound-email-${local.suffix}"
  project          = var.project_id
  region           = var.region
  database_version = "POSTGRES_15"

  # Terraform refuses to destroy it; the API refuses too (settings below).
  deletion_protection = var.sql_deletion_protection

  settings {
    tier                        = var.sql_tier
    edition                     = "ENTERPRISE"
    availability_type           = var.sql_availability_type
    deletion_protection_enabled = var.sql_deletion_protection
    disk_type                   = "PD_SSD"
    disk_autoresize             = true
    # Only the Cloud SQL connectors / Auth Proxy may connect.
    connector_enforcement = "REQUIRED"

    backup_configuration {
      enabled                        = true
      start_time                     = "03:00" # UTC, after the 01:30 rollup
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = var.sql_backup_retained_count
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      ipv4_enabled = true
      ssl_mode     = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
      # No authorized_networks block: no address range may connect directly.
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }

    # The connection budget the function sizing is checked against
    # (see the arithmetic in functions.tf).
    database_flags {
      name  = "max_connections"
      value = tostring(var.sql_max_connections)
    }

    insights_config {
      query_insights_enabled = true
    }

    maintenance_window {
      day          = 7 # Sunday
      hour         = 4 # UTC
      update_track = "stable"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_sql_database" "app" {
  name     = var.db_name
  project  = var.project_id
  instance = google_sql_database_instance.main.name

  # Removing the resource from Terraform must never drop the data.
  deletion_policy = "ABANDON"
}

# IAM database users. Postgres knows a service account by its email without
# the ".gserviceaccount.com" suffix; that is also DB_USER of each function.
# "deployer" runs the Alembic migrations and owns the tables; it grants the
# others what they need after each migration (see cloudbuild.yaml).
resource "google_sql_user" "iam" {
  for_each = toset(["processor", "rollup", "deployer"])

  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.sa[each.key].email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}
