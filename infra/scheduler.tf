# Cloud Scheduler: three HTTP jobs that call private functions with an OIDC token of the
# scheduler account (the answer is the outcome, so a non-2xx run is recorded as failed), and
# the 6-hourly git reconciliation, a message on git-sync-requests like a webhook's.

resource "google_cloud_scheduler_job" "asset_snapshot" {
  project          = var.project_id
  region           = var.region
  name             = "lzsync-asset-snapshot"
  description      = "Layer 3: converge resources to Cloud Asset Inventory."
  schedule         = var.snapshot_schedule
  time_zone        = var.schedule_time_zone
  attempt_deadline = "540s"

  # The next run is minutes away: no retries piling onto a busy scope.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = module.asset_snapshot.uri
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.asset_snapshot.uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invokes_asset_snapshot]
}

resource "google_cloud_scheduler_job" "git_reconcile" {
  project     = var.project_id
  region      = var.region
  name        = "lzsync-git-reconcile"
  description = "Layer 2: sync every configured repository, catching up pushes whose webhook never arrived."
  schedule    = var.git_reconcile_schedule
  time_zone   = var.schedule_time_zone

  # Published by the Cloud Scheduler service agent, whose role includes pubsub.topics.publish.
  pubsub_target {
    topic_name = google_pubsub_topic.git_sync_requests.id
    data       = base64encode("{\"trigger\":\"schedule\"}")
  }

  depends_on = [google_project_service.this]
}

resource "google_cloud_scheduler_job" "bq_export" {
  project          = var.project_id
  region           = var.region
  name             = "lzsync-bq-export"
  description      = "Layer 5: export yesterday (UTC) to lzsync_history."
  schedule         = var.history_schedule
  time_zone        = var.schedule_time_zone
  attempt_deadline = "540s"

  # 503 (BigQuery, Firestore or the listing unavailable) is worth retrying the same night.
  retry_config {
    retry_count          = 3
    min_backoff_duration = "300s"
    max_backoff_duration = "1800s"
  }

  http_target {
    http_method = "POST"
    uri         = module.bq_export.uri
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.bq_export.uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invokes_bq_export]
}

resource "google_cloud_scheduler_job" "freshness_check" {
  project          = var.project_id
  region           = var.region
  name             = "lzsync-freshness-check"
  description      = "Mark stale layers in sync_status and alert on each change."
  schedule         = var.freshness_schedule
  time_zone        = var.schedule_time_zone
  attempt_deadline = "60s"

  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = module.freshness_check.uri
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.freshness_check.uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invokes_freshness_check]
}
