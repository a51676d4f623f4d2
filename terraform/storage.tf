# Raw inbound mail, exactly as received (gs://<bucket>/<yyyy>/<mm>/<dd>/<email_id>.eml).
resource "google_storage_bucket" "raw_email" {
  name     = "${var.project_id}-raw-email-${local.suffix}"
  project  = var.project_id
  location = var.region

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Each email is written once (create-if-absent); no history to keep.
  versioning {
    enabled = false
  }

  # Legal retention: no object (mail, rejected bodies, replay markers) can be
  # deleted or replaced before it is this old, by anyone. Unlocked: the period
  # can still be changed or removed. Locking it is irreversible and the
  # operator's decision (docs/deploy.md, "Locking the retention policy");
  # Terraform never locks it.
  retention_policy {
    retention_period = var.raw_email_retention_days * 86400
    is_locked        = false
  }

  # Keep mail for the legal retention period, then delete it.
  lifecycle_rule {
    condition {
      age = var.raw_email_retention_days
    }
    action {
      type = "Delete"
    }
  }

  # Mailgun replay-protection markers (replay/<token>) only matter within the
  # signature's timestamp tolerance; keep them a week. The retention policy
  # holds them (empty objects) until the retention period is over: the rule
  # deletes them then.
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["replay/"]
    }
    action {
      type = "Delete"
    }
  }

  # Bodies of authenticated requests refused as malformed (rejected/<yyyy>/<mm>/<dd>/
  # <correlation_id>.body + .json), kept so a parser bug loses no mail: an operator
  # replays them once the parser is fixed, then they expire.
  lifecycle_rule {
    condition {
      age            = var.rejected_request_retention_days
      matches_prefix = ["rejected/"]
    }
    action {
      type = "Delete"
    }
  }

  # Mail older than 90 days is rarely read again (replays, disputes).
  lifecycle_rule {
    condition {
      age                   = 90
      matches_storage_class = ["STANDARD"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  depends_on = [google_project_service.apis]
}

# Source archives of the functions (dist/<name>.zip, uploaded by Terraform).
resource "google_storage_bucket" "sources" {
  name     = "${var.project_id}-function-sources-${local.suffix}"
  project  = var.project_id
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  # No lifecycle rule: a new build changes the object name, and Terraform
  # deletes the previous archive when it replaces the object.

  depends_on = [google_project_service.apis]
}
