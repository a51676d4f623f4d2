# Where the pipeline keeps its CI image (infra/ci/Dockerfile): the test step of
# cloudbuild.yaml runs `make test` in it, the migrate and apply steps use its
# pinned Python, Terraform and gcloud. The pipeline builds and pushes the image
# when the tag it names is not there yet.
resource "google_artifact_registry_repository" "ci" {
  project       = var.project_id
  location      = var.region
  repository_id = "ci-${local.suffix}"
  format        = "DOCKER"
  description   = "CI image of the deployment pipeline (infra/ci/Dockerfile)."

  depends_on = [google_project_service.apis]
}
