# Least privilege. One service account per function, holding only what that function does;
# two invoker accounts (Scheduler, Pub/Sub push) that may only call their functions; grants on
# the one topic, secret, dataset or service where IAM allows it, on the project only where it
# does not (Firestore and BigQuery jobs), on the scope only for Cloud Asset reads. No primitive
# roles. README.md beside this file lists every grant and why.

# --- identities ---

resource "google_service_account" "webhook" {
  project      = var.project_id
  account_id   = "lzsync-webhook"
  display_name = "lzsync webhook (runtime)"
}

resource "google_service_account" "git_sync" {
  project      = var.project_id
  account_id   = "lzsync-git-sync"
  display_name = "lzsync git_sync (runtime)"
}

resource "google_service_account" "asset_snapshot" {
  project      = var.project_id
  account_id   = "lzsync-asset-snapshot"
  display_name = "lzsync asset_snapshot (runtime)"
}

resource "google_service_account" "asset_events" {
  project      = var.project_id
  account_id   = "lzsync-asset-events"
  display_name = "lzsync asset_events (runtime)"
}

resource "google_service_account" "bq_export" {
  project      = var.project_id
  account_id   = "lzsync-bq-export"
  display_name = "lzsync bq_export (runtime)"
}

resource "google_service_account" "freshness_check" {
  project      = var.project_id
  account_id   = "lzsync-freshness"
  display_name = "lzsync freshness_check (runtime)"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "lzsync-scheduler"
  display_name = "lzsync Cloud Scheduler invoker (OIDC)"
}

resource "google_service_account" "pubsub_push" {
  project      = var.project_id
  account_id   = "lzsync-pubsub-push"
  display_name = "lzsync Pub/Sub push invoker (OIDC)"
}

# --- Firestore: IAM cannot narrow it to collections, so datastore.user on the project is the
# floor for every function that reads or writes its documents (all six). ---

resource "google_project_iam_member" "firestore_user" {
  for_each = {
    webhook         = google_service_account.webhook.email
    git_sync        = google_service_account.git_sync.email
    asset_snapshot  = google_service_account.asset_snapshot.email
    asset_events    = google_service_account.asset_events.email
    bq_export       = google_service_account.bq_export.email
    freshness_check = google_service_account.freshness_check.email
  }

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${each.value}"
}

# --- webhook: publish to its one topic, read its one secret ---

resource "google_pubsub_topic_iam_member" "webhook_publishes_sync_requests" {
  project = var.project_id
  topic   = google_pubsub_topic.git_sync_requests.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.webhook.email}"
}

resource "google_secret_manager_secret_iam_member" "webhook_reads_webhook_secret" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.webhook_secret.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.webhook.email}"
}

# --- git_sync: read the git token ---

resource "google_secret_manager_secret_iam_member" "git_sync_reads_git_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.git_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.git_sync.email}"
}

# --- asset_snapshot and bq_export: list the scope's assets (bq_export reads up to 35 days
# back). Cloud Asset viewer on the scope only, by its kind. ---

locals {
  asset_readers = {
    asset_snapshot = google_service_account.asset_snapshot.email
    bq_export      = google_service_account.bq_export.email
  }
}

resource "google_organization_iam_member" "asset_viewer" {
  for_each = local.scope_kind == "organizations" ? local.asset_readers : {}

  org_id = local.scope_id
  role   = "roles/cloudasset.viewer"
  member = "serviceAccount:${each.value}"
}

resource "google_folder_iam_member" "asset_viewer" {
  for_each = local.scope_kind == "folders" ? local.asset_readers : {}

  folder = var.asset_scope
  role   = "roles/cloudasset.viewer"
  member = "serviceAccount:${each.value}"
}

resource "google_project_iam_member" "asset_viewer" {
  for_each = local.scope_kind == "projects" ? local.asset_readers : {}

  project = local.scope_id
  role    = "roles/cloudasset.viewer"
  member  = "serviceAccount:${each.value}"
}

# --- bq_export: run jobs in the project (load, query; no dataset-level alternative), edit
# only its own dataset ---

resource "google_project_iam_member" "bq_export_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.bq_export.email}"
}

resource "google_bigquery_dataset_iam_member" "bq_export_edits_history" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.history.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.bq_export.email}"
}

# --- freshness_check: read the chat webhook URL ---

resource "google_secret_manager_secret_iam_member" "freshness_check_reads_alert_webhook_url" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.alert_webhook_url.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.freshness_check.email}"
}

# --- who may call which function (run.invoker on the function's Cloud Run service) ---

# The webhook is the one public endpoint: GitHub cannot present a Google identity. Every
# request is authenticated by its HMAC signature before anything is written.
resource "google_cloud_run_v2_service_iam_member" "public_invokes_webhook" {
  project  = var.project_id
  location = var.region
  name     = module.webhook.service_name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_asset_snapshot" {
  project  = var.project_id
  location = var.region
  name     = module.asset_snapshot.service_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_bq_export" {
  project  = var.project_id
  location = var.region
  name     = module.bq_export.service_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_freshness_check" {
  project  = var.project_id
  location = var.region
  name     = module.freshness_check.service_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_run_v2_service_iam_member" "pubsub_push_invokes_git_sync" {
  project  = var.project_id
  location = var.region
  name     = module.git_sync.service_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

resource "google_cloud_run_v2_service_iam_member" "pubsub_push_invokes_asset_events" {
  project  = var.project_id
  location = var.region
  name     = module.asset_events.service_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

# --- Google's service agents ---

# Pub/Sub mints the push requests' OIDC tokens as lzsync-pubsub-push (granted on that one
# account, not on the project).
resource "google_service_account_iam_member" "pubsub_agent_mints_push_tokens" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Dead-lettering: Pub/Sub forwards a message to the dead-letter topic and acknowledges it on
# the source subscription, both as its service agent.
resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_git_sync_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.git_sync_requests_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_asset_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.asset_changes_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_git_sync_push" {
  project      = var.project_id
  subscription = google_pubsub_subscription.git_sync_push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_asset_events_push" {
  project      = var.project_id
  subscription = google_pubsub_subscription.asset_events_push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# The asset feed publishes as the Cloud Asset service agent.
resource "google_pubsub_topic_iam_member" "cloudasset_agent_publishes_changes" {
  project = var.project_id
  topic   = google_pubsub_topic.asset_changes.name
  role    = "roles/pubsub.publisher"
  member  = local.cloudasset_service_agent
}

