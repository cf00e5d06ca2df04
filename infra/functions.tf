# The six functions, each from its `make package` folder and each with its own service account
# (iam.tf). Only the webhook accepts traffic from the internet; the others admit only the same
# project's Cloud Scheduler and Pub/Sub (internal ingress) and, on top, IAM (run.invoker).
#
# git_sync and asset_events are CloudEvent functions but are deployed without an Eventarc
# trigger: Pub/Sub push subscriptions that this module owns (pubsub.tf) deliver to them, so the
# dead-letter and retry policies are Terraform-managed. functions-framework turns a plain
# Pub/Sub push body into the same messagePublished CloudEvent an Eventarc trigger would send.

locals {
  source_dir = coalesce(var.source_dir, "${path.module}/../dist/functions")

  function_defaults = {
    webhook         = { memory = "256Mi", cpu = null, timeout_seconds = 10, max_instances = 10, concurrency = 1 }
    git_sync        = { memory = "512Mi", cpu = null, timeout_seconds = 540, max_instances = 5, concurrency = 1 }
    asset_snapshot  = { memory = "512Mi", cpu = null, timeout_seconds = 540, max_instances = 1, concurrency = 1 }
    asset_events    = { memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 10, concurrency = 80 }
    bq_export       = { memory = "512Mi", cpu = null, timeout_seconds = 540, max_instances = 1, concurrency = 1 }
    freshness_check = { memory = "256Mi", cpu = null, timeout_seconds = 60, max_instances = 1, concurrency = 1 }
  }
  # Defaults overridden by whatever var.functions sets.
  function_settings = {
    for name, defaults in local.function_defaults : name => merge(
      defaults,
      { for key, value in try(var.functions[name], {}) : key => value if value != null },
    )
  }

  common_environment = {
    LZSYNC_PROJECT_ID        = var.project_id
    LZSYNC_COLLECTION_PREFIX = var.collection_prefix
    LZSYNC_LOG_LEVEL         = var.log_level
  }
  asset_environment = {
    LZSYNC_ASSET_SCOPE = var.asset_scope
    LZSYNC_ASSET_TYPES = jsonencode(var.asset_types)
  }
  repos_json = jsonencode([
    for repo in var.repositories : {
      name = repo.name, url = repo.url, branch = repo.branch, include = repo.include, exclude = repo.exclude
    }
  ])
}

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:Holds only build inputs written by this module; access logs add cost, not insight.
  project                     = var.project_id
  name                        = "${var.project_id}-lzsync-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = local.labels

  versioning {
    enabled = true
  }

  # Old packages are only needed until their function redeployed.
  lifecycle_rule {
    condition {
      num_newer_versions = 3
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

module "webhook" {
  #checkov:skip=CKV_GCP_124:The webhook is GitHub's endpoint and must be reachable from the internet; every request is verified by its HMAC signature (X-Hub-Signature-256) before anything is written.
  source = "./modules/function"

  project_id            = var.project_id
  region                = var.region
  name                  = "lzsync-webhook"
  description           = "GitHub push deliveries in, sync requests on git-sync-requests out (public)."
  entry_point           = "webhook"
  source_dir            = "${local.source_dir}/webhook"
  source_bucket         = google_storage_bucket.sources.name
  service_account_email = google_service_account.webhook.email
  build_service_account = var.build_service_account
  memory                = local.function_settings.webhook.memory
  cpu                   = local.function_settings.webhook.cpu
  timeout_seconds       = local.function_settings.webhook.timeout_seconds
  max_instances         = local.function_settings.webhook.max_instances
  concurrency           = local.function_settings.webhook.concurrency
  ingress               = "ALLOW_ALL"
  labels                = local.labels

  environment = merge(local.common_environment, {
    LZSYNC_REPOS      = local.repos_json
    LZSYNC_SYNC_TOPIC = google_pubsub_topic.git_sync_requests.name
  })
  secret_environment = {
    LZSYNC_WEBHOOK_SECRET = google_secret_manager_secret.webhook_secret.secret_id
  }

  depends_on = [google_secret_manager_secret_iam_member.webhook_reads_webhook_secret]
}

module "git_sync" {
  source = "./modules/function"

  project_id            = var.project_id
  region                = var.region
  name                  = "lzsync-git-sync"
  description           = "A sync request from git-sync-requests in, Firestore documents converged to the branch head out."
  entry_point           = "git_sync"
  source_dir            = "${local.source_dir}/git_sync"
  source_bucket         = google_storage_bucket.sources.name
  service_account_email = google_service_account.git_sync.email
  build_service_account = var.build_service_account
  memory                = local.function_settings.git_sync.memory
  cpu                   = local.function_settings.git_sync.cpu
  timeout_seconds       = local.function_settings.git_sync.timeout_seconds
  max_instances         = local.function_settings.git_sync.max_instances
  concurrency           = local.function_settings.git_sync.concurrency
  ingress               = "ALLOW_INTERNAL_ONLY"
  labels                = local.labels

  environment = merge(local.common_environment, {
    LZSYNC_REPOS = local.repos_json
    # The lease on a repository lasts as long as a run may.
    LZSYNC_SYNC_LEASE_SECONDS = tostring(local.function_settings.git_sync.timeout_seconds)
  })
  secret_environment = {
    LZSYNC_GIT_TOKEN = google_secret_manager_secret.git_token.secret_id
  }

  depends_on = [google_secret_manager_secret_iam_member.git_sync_reads_git_token]
}

module "asset_snapshot" {
  source = "./modules/function"

  project_id            = var.project_id
  region                = var.region
  name                  = "lzsync-asset-snapshot"
  description           = "Scheduler's call in, resources converged to Cloud Asset Inventory out."
  entry_point           = "asset_snapshot"
  source_dir            = "${local.source_dir}/asset_snapshot"
  source_bucket         = google_storage_bucket.sources.name
  service_account_email = google_service_account.asset_snapshot.email
  build_service_account = var.build_service_account
  memory                = local.function_settings.asset_snapshot.memory
  cpu                   = local.function_settings.asset_snapshot.cpu
  timeout_seconds       = local.function_settings.asset_snapshot.timeout_seconds
  max_instances         = local.function_settings.asset_snapshot.max_instances
  concurrency           = local.function_settings.asset_snapshot.concurrency
  ingress               = "ALLOW_INTERNAL_ONLY"
  labels                = local.labels

  environment = merge(local.common_environment, local.asset_environment, {
    LZSYNC_SYNC_LEASE_SECONDS = tostring(local.function_settings.asset_snapshot.timeout_seconds)
  })
}

module "asset_events" {
  source = "./modules/function"

  project_id            = var.project_id
  region                = var.region
  name                  = "lzsync-asset-events"
  description           = "A feed change from asset-changes in, resources and activity updated out (newer wins)."
  entry_point           = "asset_events"
  source_dir            = "${local.source_dir}/asset_events"
  source_bucket         = google_storage_bucket.sources.name
  service_account_email = google_service_account.asset_events.email
  build_service_account = var.build_service_account
  memory                = local.function_settings.asset_events.memory
  cpu                   = local.function_settings.asset_events.cpu
  timeout_seconds       = local.function_settings.asset_events.timeout_seconds
  max_instances         = local.function_settings.asset_events.max_instances
  concurrency           = local.function_settings.asset_events.concurrency
  ingress               = "ALLOW_INTERNAL_ONLY"
  labels                = local.labels

  environment = merge(local.common_environment, {
    LZSYNC_EVENTS_TOPIC = google_pubsub_topic.asset_changes.name
    # functions-framework's gunicorn serves this many requests at once; concurrent requests
    # share one Firestore transaction (group commit), so it matches the instance concurrency.
    THREADS = tostring(local.function_settings.asset_events.concurrency)
  })
}

module "bq_export" {
  source = "./modules/function"

  project_id            = var.project_id
  region                = var.region
  name                  = "lzsync-bq-export"
  description           = "Scheduler's daily call in, yesterday's history partitions in lzsync_history out."
  entry_point           = "bq_export"
  source_dir            = "${local.source_dir}/bq_export"
  source_bucket         = google_storage_bucket.sources.name
  service_account_email = google_service_account.bq_export.email
  build_service_account = var.build_service_account
  memory                = local.function_settings.bq_export.memory
  cpu                   = local.function_settings.bq_export.cpu
  timeout_seconds       = local.function_settings.bq_export.timeout_seconds
  max_instances         = local.function_settings.bq_export.max_instances
  concurrency           = local.function_settings.bq_export.concurrency
  ingress               = "ALLOW_INTERNAL_ONLY"
  labels                = local.labels

  environment = merge(local.common_environment, local.asset_environment, {
    LZSYNC_HISTORY_DATASET  = google_bigquery_dataset.history.dataset_id
    LZSYNC_HISTORY_PROJECT  = var.project_id
    LZSYNC_HISTORY_LOCATION = google_bigquery_dataset.history.location
    }, var.history_billing_export_table == null ? {} : {
    LZSYNC_HISTORY_BILLING_EXPORT_TABLE = var.history_billing_export_table
  })
}

module "freshness_check" {
  source = "./modules/function"

  project_id            = var.project_id
  region                = var.region
  name                  = "lzsync-freshness-check"
  description           = "Scheduler's call in, stale layers marked in sync_status and announced out."
  entry_point           = "freshness_check"
  source_dir            = "${local.source_dir}/freshness_check"
  source_bucket         = google_storage_bucket.sources.name
  service_account_email = google_service_account.freshness_check.email
  build_service_account = var.build_service_account
  memory                = local.function_settings.freshness_check.memory
  cpu                   = local.function_settings.freshness_check.cpu
  timeout_seconds       = local.function_settings.freshness_check.timeout_seconds
  max_instances         = local.function_settings.freshness_check.max_instances
  concurrency           = local.function_settings.freshness_check.concurrency
  ingress               = "ALLOW_INTERNAL_ONLY"
  labels                = local.labels

  environment = local.common_environment
  secret_environment = {
    LZSYNC_ALERT_WEBHOOK_URL = google_secret_manager_secret.alert_webhook_url.secret_id
  }

  depends_on = [google_secret_manager_secret_iam_member.freshness_check_reads_alert_webhook_url]
}
