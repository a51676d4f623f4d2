terraform {
  required_version = ">= 1.5"

  # Exact versions are fixed by .terraform.lock.hcl (committed; see docs/deploy.md,
  # "Provider lock file"): the pipeline refuses to apply without it.
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    # google_project_service_identity (the Pub/Sub service agent) exists only in
    # the beta provider; same releases as google.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0, < 8.0"
    }
    # time_sleep: IAM and log-based metrics take a while to propagate.
    time = {
      source  = "hashicorp/time"
      version = ">= 0.11, < 1.0"
    }
  }

  # State lives in a GCS bucket created once by hand (see docs/deploy.md):
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=<environment>"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = local.default_labels
}

provider "google-beta" {
  project = var.project_id
  region  = var.region

  default_labels = local.default_labels
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  default_labels = {
    app         = "inbound-email"
    environment = var.environment
    managed-by  = "terraform"
  }

  # Every name is suffixed with the environment so that two environments can
  # share one project if they must (one project per environment is better).
  suffix = var.environment

  function_names = {
    webhook   = "webhook-${local.suffix}"
    processor = "processor-${local.suffix}"
    rollup    = "rollup-${local.suffix}"
  }

  # Audiences the rollup function accepts in the OIDC token (ROLLUP_AUDIENCE),
  # known before the function exists so that it need not refer to itself:
  # its Cloud Run service's two run.app URLs, the deterministic one and the
  # hashed one that service_config[0].uri returns (Cloud Scheduler calls that
  # one, scheduler.tf). Cloud Run has checked the audience already; the
  # function checks again as defence in depth.
  rollup_audiences = [
    "https://${local.function_names.rollup}-${data.google_project.this.number}.${var.region}.run.app",
    "https://${local.function_names.rollup}-*.a.run.app",
  ]
  rollup_audience = join(",", local.rollup_audiences)

  # Created (not merely named) by google_project_service_identity.pubsub
  # (iam.tf) before anything grants it a role.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
