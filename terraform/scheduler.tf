# Nightly rollup at 01:30 in var.time_zone. Its minute must not be one the
# outbox sweep below runs at (minute = 2 mod 5: 02, 07, ... 57): the rollup
# function has one instance taking one request, so two calls at the same minute
# refuse one (tests/unit/test_terraform.py checks both schedules). Cloud Scheduler calls the private
# rollup function with an OIDC token minted for the scheduler service account,
# the only identity (besides owners) allowed to invoke it. URL and audience are
# the function's run.app URL (service_config[0].uri): Cloud Scheduler's calls
# there count as internal traffic for the internal-only ingress, and Cloud Run
# checks the token against that audience. The rollup is
# idempotent (daily rows are upserted), so retries are safe.
resource "google_cloud_scheduler_job" "rollup" {
  name        = "rollup-nightly-${local.suffix}"
  project     = var.project_id
  region      = var.region
  description = "Roll up yesterday's operational metrics and prune raw rows."
  schedule    = "30 1 * * *"
  time_zone   = var.time_zone

  # How long one attempt may take: as long as the function may run.
  attempt_deadline = "${local.rollup_timeout_seconds}s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
    max_backoff_duration = "900s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.rollup.service_config[0].uri
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.sa["scheduler"].email
      audience              = google_cloudfunctions2_function.rollup.service_config[0].uri
    }
  }

  depends_on = [
    google_cloudfunctions2_function.rollup,
    google_cloud_run_v2_service_iam_member.rollup_scheduler_invoker,
  ]
}

# Every 5 minutes: the outbox sweep. The same private rollup function, body
# {"task": "outbox_sweep"}: sends the staff notifications whose retry is due
# (after an SMTP outage) even when no email arrives to trigger the
# processor's own sweep — compliance alerts must not wait for the next email.
# No retries: the next run is 5 minutes away. At minutes 02, 07, ... 57, never
# at :00 or :30, so it never starts together with the 01:30 rollup; while the
# rollup holds the function's one instance, a sweep call is refused and the
# next one sends.
resource "google_cloud_scheduler_job" "outbox_sweep" {
  name             = "outbox-sweep-${local.suffix}"
  project          = var.project_id
  region           = var.region
  description      = "Send due staff notifications (outbox retries) without waiting for mail."
  schedule         = "2-59/5 * * * *"
  time_zone        = var.time_zone
  attempt_deadline = "300s"

  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.rollup.service_config[0].uri
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode("{\"task\": \"outbox_sweep\"}")

    oidc_token {
      service_account_email = google_service_account.sa["scheduler"].email
      audience              = google_cloudfunctions2_function.rollup.service_config[0].uri
    }
  }

  depends_on = [
    google_cloudfunctions2_function.rollup,
    google_cloud_run_v2_service_iam_member.rollup_scheduler_invoker,
  ]
}
