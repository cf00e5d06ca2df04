# Firestore (Native mode, the (default) database the functions and the Portal use), the
# Portal's security rules, composite indexes, and TTL policies on expires_at.

locals {
  firestore_database = "(default)"

  # Rules and indexes are files at the repository root, maintained with the Portal; either may
  # not exist yet. No rules file: no release, and client reads stay refused (the functions use
  # IAM, which rules do not govern).
  firestore_rules_path   = coalesce(var.firestore_rules_file, "${path.module}/../firestore.rules")
  firestore_rules        = fileexists(local.firestore_rules_path) ? file(local.firestore_rules_path) : null
  firestore_indexes_path = coalesce(var.firestore_indexes_file, "${path.module}/../firestore.indexes.json")
  firestore_indexes = fileexists(local.firestore_indexes_path) ? try(
    jsondecode(file(local.firestore_indexes_path)).indexes, []
  ) : []

  # Collections whose documents carry expires_at for Firestore to delete: webhook delivery ids
  # (4 days), activity (30 days), event tombstones (24 h), per-file doc changes (30 days).
  ttl_collections = toset(["_deliveries", "activity", "_tombstones", "_doc_changes"])
}

resource "google_firestore_database" "this" {
  count = var.create_firestore_database ? 1 : 0

  project                     = var.project_id
  name                        = local.firestore_database
  location_id                 = coalesce(var.firestore_location, var.region)
  type                        = "FIRESTORE_NATIVE"
  app_engine_integration_mode = "DISABLED"
  delete_protection_state     = "DELETE_PROTECTION_ENABLED"
  # terraform destroy forgets the database instead of deleting the Portal's data.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.this]
}

resource "google_firebaserules_ruleset" "firestore" {
  count = local.firestore_rules == null ? 0 : 1

  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = local.firestore_rules
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_firestore_database.this]
}

resource "google_firebaserules_release" "firestore" {
  count = local.firestore_rules == null ? 0 : 1

  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore[0].name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore[0]]
  }
}

resource "google_firestore_index" "composite" {
  for_each = {
    for index in local.firestore_indexes :
    join("|", concat(
      [index.collectionGroup, try(index.queryScope, "COLLECTION")],
      [for field in index.fields : "${field.fieldPath}:${try(field.order, field.arrayConfig, "")}"],
    )) => index
  }

  project     = var.project_id
  database    = local.firestore_database
  collection  = "${var.collection_prefix}${each.value.collectionGroup}"
  query_scope = try(each.value.queryScope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = try(fields.value.order, null)
      array_config = try(fields.value.arrayConfig, null)
    }
  }

  depends_on = [google_firestore_database.this]
}

resource "google_firestore_field" "expires_at_ttl" {
  for_each = local.ttl_collections

  project    = var.project_id
  database   = local.firestore_database
  collection = "${var.collection_prefix}${each.value}"
  field      = "expires_at"

  ttl_config {}

  # No query filters or sorts on expires_at; without its single-field indexes, writes of
  # ever-increasing timestamps do not hot-spot an index.
  index_config {}

  depends_on = [google_firestore_database.this]
}
