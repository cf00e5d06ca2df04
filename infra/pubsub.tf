# Two delivery paths, each: topic → push subscription (retry with backoff, dead-letter policy)
# → function, and a dead-letter topic with a pull "hold" subscription that keeps what failed
# for `lzsync dead-letters drain`.
#
# Why push subscriptions of our own instead of an Eventarc trigger: the subscription Eventarc
# creates belongs to Eventarc, and neither the trigger nor google_cloudfunctions2_function can
# give it a dead-letter policy; setting one by hand afterwards is drift Terraform cannot see.
# These subscriptions push the standard wrapped body ({"message": ..., "subscription": ...})
# with an OIDC token of the pubsub-push account, which functions-framework converts into the
# messagePublished CloudEvent the functions expect (the repository's e2e tests use the same
# push shape against the emulator).

locals {
  # Seven days: the most a subscription keeps unacknowledged messages.
  retention = "604800s"
}

resource "google_pubsub_topic" "git_sync_requests" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; messages are sync requests (repo, commit, delivery id), no secrets or customer data.
  project = var.project_id
  name    = "git-sync-requests"
  labels  = local.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "git_sync_requests_dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; same messages as git-sync-requests.
  project = var.project_id
  name    = "git-sync-requests-dead-letter"
  labels  = local.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "asset_changes" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; the feed carries resource metadata the Portal shows anyway.
  project = var.project_id
  name    = "asset-changes"
  labels  = local.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "asset_changes_dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; same messages as asset-changes.
  project = var.project_id
  name    = "asset-changes-dead-letter"
  labels  = local.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_subscription" "git_sync_push" {
  project = var.project_id
  name    = "git-sync-requests-to-git-sync"
  topic   = google_pubsub_topic.git_sync_requests.id
  labels  = local.labels

  # The push request is the function call: Pub/Sub waits this long for its answer (600 s is
  # the maximum; a run may take the function's 540 s).
  ack_deadline_seconds       = 600
  message_retention_duration = local.retention

  push_config {
    push_endpoint = module.git_sync.uri
    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = module.git_sync.uri
    }
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.git_sync_requests_dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = "" # never expires, however quiet the repositories are
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.pubsub_push_invokes_git_sync,
    google_pubsub_topic_iam_member.pubsub_agent_publishes_git_sync_dead_letters,
    google_service_account_iam_member.pubsub_agent_mints_push_tokens,
  ]
}

resource "google_pubsub_subscription" "asset_events_push" {
  project = var.project_id
  name    = "asset-changes-to-asset-events"
  topic   = google_pubsub_topic.asset_changes.id
  labels  = local.labels

  # asset_events answers within its 60 s timeout; a little slack before redelivery.
  ack_deadline_seconds       = 120
  message_retention_duration = local.retention

  push_config {
    push_endpoint = module.asset_events.uri
    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = module.asset_events.uri
    }
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.asset_changes_dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.pubsub_push_invokes_asset_events,
    google_pubsub_topic_iam_member.pubsub_agent_publishes_asset_dead_letters,
    google_service_account_iam_member.pubsub_agent_mints_push_tokens,
  ]
}

# Dead letters wait here (7 days) for inspection and `lzsync dead-letters drain`. Nobody pulls
# them automatically, so a dead-letter policy of their own would never trigger: they have none.
resource "google_pubsub_subscription" "git_sync_dead_letter_hold" {
  project                    = var.project_id
  name                       = "git-sync-requests-dead-letter-hold"
  topic                      = google_pubsub_topic.git_sync_requests_dead_letter.id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = local.retention

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "asset_changes_dead_letter_hold" {
  project                    = var.project_id
  name                       = "asset-changes-dead-letter-hold"
  topic                      = google_pubsub_topic.asset_changes_dead_letter.id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = local.retention

  expiration_policy {
    ttl = ""
  }
}
