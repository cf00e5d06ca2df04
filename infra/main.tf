# Project facts, the APIs the system uses, and names shared by several files.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  project_number = data.google_project.this.number

  # Google-managed service agents that act for us: Pub/Sub delivers pushes, mints the push
  # OIDC tokens and moves messages to dead-letter topics; Cloud Asset Inventory publishes the
  # feed. They exist once their API has been used (see README: "Service agents").
  pubsub_service_agent     = "serviceAccount:service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  cloudasset_service_agent = "serviceAccount:service-${local.project_number}@gcp-sa-cloudasset.iam.gserviceaccount.com"

  # The landing-zone scope the asset functions read and the feed watches.
  scope_kind = split("/", var.asset_scope)[0]
  scope_id   = split("/", var.asset_scope)[1]

  labels = merge({ app = "lzsync" }, var.labels)

  apis = toset(concat([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudasset.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ], var.billing_account_id != null ? ["billingbudgets.googleapis.com"] : []))
}

resource "google_project_service" "this" {
  for_each = var.enable_apis ? local.apis : toset([])

  project = var.project_id
  service = each.value
  # Other workloads in the project may use the same APIs: destroying lzsync never turns
  # them off.
  disable_on_destroy = false
}
