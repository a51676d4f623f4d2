terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }

  # State lives in a GCS bucket created once by hand (see docs/deploy.md):
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=<environment>"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app         = "inbound-email"
    environment = var.environment
    managed-by  = "terraform"
  }
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Every name is suffixed with the environment so that two environments can
  # share one project if they must (one project per environment is better).
  suffix = var.environment

  function_names = {
    webhook   = "webhook-${local.suffix}"
    processor = "processor-${local.suffix}"
    rollup    = "rollup-${local.suffix}"
  }

  # The rollup's address, known before the function exists: Cloud Scheduler
  # calls it and mints the OIDC token for it as audience, and the function
  # checks that audience itself (ROLLUP_AUDIENCE) — no dependency cycle.
  rollup_url = "https://${var.region}-${var.project_id}.cloudfunctions.net/${local.function_names.rollup}"

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
