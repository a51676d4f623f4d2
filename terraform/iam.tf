# Identities and who may do what. One service account per function, one for
# Cloud Scheduler, one that Pub/Sub pushes as, one that builds the functions
# and one that runs the pipeline. Grants are on the single resource concerned
# wherever GCP allows it; project-level only where the role has no resource
# level (Cloud SQL, build logging, Artifact Registry).

locals {
  service_accounts = {
    webhook   = "Webhook function: writes the raw-email bucket, publishes to the emails topic."
    processor = "Processor function: reads raw mail, Cloud SQL IAM user, its secrets."
    rollup    = "Rollup function (nightly rollup, outbox sweep): Cloud SQL IAM user, its secrets."
    scheduler = "Cloud Scheduler: invokes the rollup function (rollup, outbox sweep), nothing else."
    push      = "Pub/Sub push identity: invokes the processor function, nothing else."
    build     = "Builds the function images from the source archives."
    deployer  = "Runs cloudbuild.yaml: terraform apply, migrations (Cloud SQL IAM user), smoke check."
  }

  # Which Secret Manager secret each function reads as an environment variable.
  function_secrets = {
    webhook = [
      "SENTRY_DSN",
      "WEBHOOK_MAILGUN_SIGNING_KEY",
      "WEBHOOK_SENDGRID_USERNAME",
      "WEBHOOK_SENDGRID_PASSWORD",
      "WEBHOOK_POSTMARK_USERNAME",
      "WEBHOOK_POSTMARK_PASSWORD",
      "WEBHOOK_RAW_SECRET",
    ]
    processor = [
      "ANTHROPIC_API_KEY",
      "SENTRY_DSN",
      "SMTP_PASSWORD",
      "MONGODB_URI",
    ]
    rollup = [
      "SENTRY_DSN",
      "SMTP_PASSWORD", # the outbox sweep sends staff notifications
    ]
  }

  secret_grants = merge([
    for fn, names in local.function_secrets : {
      for name in names : "${fn}/${name}" => { function = fn, secret = name }
    }
  ]...)
}

resource "google_service_account" "sa" {
  for_each = local.service_accounts

  project      = var.project_id
  account_id   = "${each.key}-${local.suffix}"
  display_name = "${each.key} (${var.environment})"
  description  = each.value

  depends_on = [google_project_service.apis]
}

# --- webhook ---------------------------------------------------------------

# Create + read, but neither overwrite nor delete: the webhook writes each
# object with a create-if-absent precondition, so raw mail kept for the legal
# retention cannot be altered through the public endpoint.
resource "google_storage_bucket_iam_member" "webhook_raw_create" {
  bucket = google_storage_bucket.raw_email.name
  role   = "roles/storage.objectCreator"
  member = google_service_account.sa["webhook"].member
}

resource "google_storage_bucket_iam_member" "webhook_raw_read" {
  bucket = google_storage_bucket.raw_email.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.sa["webhook"].member
}

resource "google_pubsub_topic_iam_member" "webhook_publish" {
  topic  = google_pubsub_topic.emails.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.sa["webhook"].member
}

# --- processor -------------------------------------------------------------

resource "google_storage_bucket_iam_member" "processor_raw_read" {
  bucket = google_storage_bucket.raw_email.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.sa["processor"].member
}

# --- Cloud SQL: processor, rollup and the migrations (deployer) ------------

# Cloud SQL roles have no instance-level binding: they are granted on the
# project, with an IAM condition that limits them to this system's instance
# (Cloud SQL evaluates resource.name / resource.type in conditions).
# client = connect through the connector, instanceUser = log in as the IAM
# database user.
locals {
  sql_instance_condition = {
    title       = "only-instance-${local.suffix}"
    description = "Only the Cloud SQL instance of this environment."
    expression  = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"projects/${var.project_id}/instances/${google_sql_database_instance.main.name}\""
  }
}

resource "google_project_iam_member" "sql_client" {
  for_each = toset(["processor", "rollup", "deployer"])

  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.sa[each.key].member

  condition {
    title       = local.sql_instance_condition.title
    description = local.sql_instance_condition.description
    expression  = local.sql_instance_condition.expression
  }
}

resource "google_project_iam_member" "sql_instance_user" {
  for_each = toset(["processor", "rollup", "deployer"])

  project = var.project_id
  role    = "roles/cloudsql.instanceUser"
  member  = google_service_account.sa[each.key].member

  condition {
    title       = local.sql_instance_condition.title
    description = local.sql_instance_condition.description
    expression  = local.sql_instance_condition.expression
  }
}

# --- secrets: each function reads only its own -----------------------------

resource "google_secret_manager_secret_iam_member" "function_reads" {
  for_each = local.secret_grants

  secret_id = google_secret_manager_secret.app[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.sa[each.value.function].member
}

# The pipeline's smoke check signs a test email with the raw-route secret.
resource "google_secret_manager_secret_iam_member" "deployer_reads_raw_secret" {
  secret_id = google_secret_manager_secret.app["WEBHOOK_RAW_SECRET"].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.sa["deployer"].member
}

# --- invokers ----------------------------------------------------------------

# Providers cannot present a Google identity, so the webhook is public; it
# authenticates every request itself (signatures / basic auth). By default
# allUsers may invoke it. Under Domain Restricted Sharing (an organisation
# policy that refuses allUsers) set webhook_public_access =
# "invoker_iam_check_disabled": no allUsers grant, Cloud Run's invoker IAM
# check is switched off on the webhook's service instead (below).
resource "google_cloud_run_v2_service_iam_member" "webhook_public" {
  count = var.webhook_public_access == "all_users" ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.webhook.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The function resource cannot set the Cloud Run service's invoker_iam_disabled,
# so gcloud does (the CI image has it; the deployer has roles/run.admin). It
# runs again after every update of the function, which redeploys the service.
resource "terraform_data" "webhook_invoker_iam_check_disabled" {
  count = var.webhook_public_access == "invoker_iam_check_disabled" ? 1 : 0

  triggers_replace = [
    google_cloudfunctions2_function.webhook.service_config[0].service,
    google_cloudfunctions2_function.webhook.update_time,
  ]

  provisioner "local-exec" {
    command = "gcloud run services update ${google_cloudfunctions2_function.webhook.name} --project=${var.project_id} --region=${var.region} --no-invoker-iam-check --quiet"
  }
}

# The processor is private: only the Pub/Sub push identity may call it.
resource "google_cloud_run_v2_service_iam_member" "processor_push_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.processor.name
  role     = "roles/run.invoker"
  member   = google_service_account.sa["push"].member
}

# The rollup is private: only Cloud Scheduler's identity may call it.
resource "google_cloud_run_v2_service_iam_member" "rollup_scheduler_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.rollup.name
  role     = "roles/run.invoker"
  member   = google_service_account.sa["scheduler"].member
}

# --- Pub/Sub service agent ----------------------------------------------------

# On a fresh project the agent may not exist yet when the API has just been
# enabled; granting it a role then fails ("Service account ... does not
# exist"). generateServiceIdentity creates it (a no-op when it exists). The
# resource is in the beta provider only.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.apis]
}

# Forwarding to the dead-letter topic is done by the Pub/Sub service agent.
resource "google_pubsub_topic_iam_member" "agent_publishes_dead_letters" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}

# ... and it must be able to acknowledge the message it dead-lettered.
resource "google_pubsub_subscription_iam_member" "agent_subscribes_processor" {
  subscription = google_pubsub_subscription.processor.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}

# The agent mints the push OIDC token as the push identity. Setting a service
# account's policy needs roles/iam.serviceAccountAdmin (deployer_project_roles):
# granted first when the pipeline applies.
resource "google_service_account_iam_member" "agent_mints_push_token" {
  service_account_id = google_service_account.sa["push"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_iam_member.deployer, google_project_service_identity.pubsub]
}

# --- function builds -----------------------------------------------------------

# What the provider's own cloudfunctions2 examples grant a build service
# account, at project level: Cloud Functions copies the uploaded archive into
# its own bucket (gcf-v2-sources-<project number>-<region>) and the build
# fetches it from there, so a grant on our sources bucket alone is refused
# ("Access to bucket gcf-v2-sources-... denied"). Builder = run builds,
# logWriter = build logs, artifactregistry.writer = push the function image.
#
# objectAdmin and artifactregistry.writer carry an IAM condition: unbounded,
# they would let a build read every raw email and overwrite any image (the CI
# image among them). Storage and Artifact Registry evaluate resource.name in
# conditions (IAM "conditions resource attributes"): buckets are
# projects/_/buckets/NAME, their objects projects/_/buckets/NAME/objects/...,
# repositories projects/PROJECT/locations/REGION/repositories/NAME.
# gcf-artifacts is the repository Cloud Functions pushes the function images
# to; it creates it itself, so it cannot be granted on directly. Both project
# ids and numbers are accepted in the repository name.
# What remains: roles/cloudbuild.builds.builder itself carries object read and
# write in every bucket and artifact uploads in every repository of the
# project (Cloud Build documents that role as "access to any Cloud Storage
# bucket in your project"); it is what the provider's examples grant, and a
# condition on it is not attempted here. docs/deploy.md, "The functions'
# build account".
locals {
  build_roles = [
    "roles/cloudbuild.builds.builder",
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
    "roles/storage.objectAdmin",
  ]

  build_buckets = [
    "projects/_/buckets/gcf-v2-sources-${data.google_project.this.number}-${var.region}",
    "projects/_/buckets/${google_storage_bucket.sources.name}",
  ]
  build_repositories = [
    for project in [var.project_id, data.google_project.this.number] :
    "projects/${project}/locations/${var.region}/repositories/gcf-artifacts"
  ]

  build_role_conditions = {
    "roles/storage.objectAdmin" = {
      title       = "function-source-buckets-only"
      description = "Only the Cloud Functions source bucket of the region and our own sources bucket."
      expression = join(" || ", flatten([
        for name in local.build_buckets :
        ["resource.name == \"${name}\"", "resource.name.startsWith(\"${name}/\")"]
      ]))
    }
    "roles/artifactregistry.writer" = {
      title       = "gcf-artifacts-only"
      description = "Only the repository Cloud Functions keeps the function images in."
      expression = join(" || ", flatten([
        for name in local.build_repositories :
        ["resource.name == \"${name}\"", "resource.name.startsWith(\"${name}/\")"]
      ]))
    }
  }
}

resource "google_project_iam_member" "build" {
  for_each = toset(local.build_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.sa["build"].member

  dynamic "condition" {
    for_each = contains(keys(local.build_role_conditions), each.value) ? [local.build_role_conditions[each.value]] : []
    content {
      title       = condition.value.title
      description = condition.value.description
      expression  = condition.value.expression
    }
  }
}

# IAM grants take up to a minute to reach Cloud Build: without the wait the
# first build of a fresh project fails to fetch its source (as the provider's
# examples do, 60 s, once: later applies do not wait again).
resource "time_sleep" "build_iam_propagation" {
  create_duration = "60s"

  triggers = {
    roles = join(",", sort(local.build_roles))
  }

  depends_on = [google_project_iam_member.build]
}

# --- pipeline and operators -------------------------------------------------------

# Every project-level role the configuration grants: the only ones the
# deployer's roles/resourcemanager.projectIamAdmin may add or remove (an IAM
# condition on modifiedGrantsByRole), so the pipeline cannot make anyone owner.
# projectIamAdmin itself is not among them: granted to itself without the
# condition, it would let the deployer grant roles/owner next. So the pipeline
# can never change the deployer's own projectIamAdmin grant (nor its
# condition): a change of deployer_project_roles that touches it is applied by
# an Owner (docs/deploy.md, "What the deployer may do").
locals {
  deployer_grantable_roles = sort(setsubtract(
    distinct(concat(
      local.build_roles,
      ["roles/cloudsql.client", "roles/cloudsql.instanceUser"],
      var.deployer_project_roles,
    )),
    ["roles/resourcemanager.projectIamAdmin"],
  ))
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(var.deployer_project_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.sa["deployer"].member

  dynamic "condition" {
    for_each = each.value == "roles/resourcemanager.projectIamAdmin" ? [1] : []
    content {
      title       = "grants-of-this-configuration-only"
      description = "May grant and revoke only the project roles this Terraform configuration uses."
      expression  = "api.getAttribute(\"iam.googleapis.com/modifiedGrantsByRole\", []).hasOnly([${join(", ", [for role in local.deployer_grantable_roles : "\"${role}\""])}])"
    }
  }
}

# Operators run `python -m shared.ops` as the deployer (its Cloud SQL IAM user
# owns the tables; it may read logs, replay dead letters and run the scheduler
# job): their Application Default Credentials impersonate it. Only the
# principals listed in var.ops_principals.
resource "google_service_account_iam_member" "ops_impersonate_deployer" {
  for_each = toset(var.ops_principals)

  service_account_id = google_service_account.sa["deployer"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = each.value

  depends_on = [google_project_iam_member.deployer]
}
