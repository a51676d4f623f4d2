# APIs the system needs. Enable them first on a fresh project:
#   terraform apply -target=google_project_service.apis
locals {
  apis = [
    "artifactregistry.googleapis.com", # images built from the function sources
    "cloudbuild.googleapis.com",       # Cloud Functions builds, the pipeline
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # OIDC tokens for push and scheduler
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # Cloud Functions 2nd gen run on Cloud Run
    "secretmanager.googleapis.com",
    "sqladmin.googleapis.com", # Cloud SQL and its connector
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each = toset(local.apis)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
