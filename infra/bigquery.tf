# The history dataset. Its tables (asset_snapshots, resource_counts, asset_changes,
# doc_changes), staging tables and trend views are created and kept up to date by bq_export
# itself on every run (CREATE TABLE IF NOT EXISTS, ALTER TABLE ... ADD COLUMN IF NOT EXISTS,
# CREATE OR REPLACE VIEW), so their schema follows the code, not this module.

resource "google_bigquery_dataset" "history" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption; inventory history, no secrets. Add default_encryption_configuration for CMEK if policy requires it.
  project     = var.project_id
  dataset_id  = "lzsync_history"
  location    = var.history_location
  description = "lzsync: daily landing-zone history (asset snapshots, counts, changes) and trend views."
  labels      = local.labels
  # terraform destroy fails while tables exist instead of deleting the history.
  delete_contents_on_destroy = false

  depends_on = [google_project_service.this]
}
