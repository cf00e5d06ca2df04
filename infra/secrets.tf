# Secret containers only. This module never creates a secret version: values would be stored in
# Terraform state in plain text. Fill them out of band (README: "Set the secrets"):
#   printf '%s' "$VALUE" | gcloud secrets versions add lzsync-webhook-secret --data-file=-
# Functions read "latest" at instance start.

resource "google_secret_manager_secret" "webhook_secret" {
  project   = var.project_id
  secret_id = "lzsync-webhook-secret"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret" "git_token" {
  project   = var.project_id
  secret_id = "lzsync-git-token"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret" "alert_webhook_url" {
  project   = var.project_id
  secret_id = "lzsync-alert-webhook"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}
