output "webhook_url" {
  description = "Payload URL of the GitHub webhook (content type application/json, push events)."
  value       = module.webhook.uri
}

output "topics" {
  description = "Pub/Sub topics: sync requests, the asset feed, and their dead-letter topics."
  value = {
    git_sync_requests             = google_pubsub_topic.git_sync_requests.name
    git_sync_requests_dead_letter = google_pubsub_topic.git_sync_requests_dead_letter.name
    asset_changes                 = google_pubsub_topic.asset_changes.name
    asset_changes_dead_letter     = google_pubsub_topic.asset_changes_dead_letter.name
  }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions holding dead letters, for `lzsync dead-letters drain`."
  value = {
    git_sync_requests = google_pubsub_subscription.git_sync_dead_letter_hold.name
    asset_changes     = google_pubsub_subscription.asset_changes_dead_letter_hold.name
  }
}

output "secrets" {
  description = "Secrets to fill with `gcloud secrets versions add` (created empty)."
  value = {
    webhook_secret    = google_secret_manager_secret.webhook_secret.secret_id
    git_token         = google_secret_manager_secret.git_token.secret_id
    alert_webhook_url = google_secret_manager_secret.alert_webhook_url.secret_id
  }
}

output "function_urls" {
  description = "Every function's endpoint (all but the webhook need an OIDC token of an allowed account)."
  value = {
    webhook         = module.webhook.uri
    git_sync        = module.git_sync.uri
    asset_snapshot  = module.asset_snapshot.uri
    asset_events    = module.asset_events.uri
    bq_export       = module.bq_export.uri
    freshness_check = module.freshness_check.uri
  }
}

output "history_dataset" {
  value = "${var.project_id}:${google_bigquery_dataset.history.dataset_id}"
}
