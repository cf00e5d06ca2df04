# The Cloud Asset Inventory feed that drives layer 4: every change to the listed asset types in
# the scope, with its RESOURCE content, published to asset-changes. One of the three resources
# exists, by the kind of var.asset_scope. Creating a feed needs cloudasset.feeds.create on the
# scope (roles/cloudasset.owner) for whoever runs Terraform; the feed itself publishes as the
# Cloud Asset service agent, granted publisher on the topic in iam.tf.

resource "google_cloud_asset_organization_feed" "changes" {
  count = local.scope_kind == "organizations" ? 1 : 0

  billing_project = var.project_id
  org_id          = local.scope_id
  feed_id         = "lzsync-asset-changes"
  content_type    = "RESOURCE"
  asset_types     = var.asset_types

  feed_output_config {
    pubsub_destination {
      topic = google_pubsub_topic.asset_changes.id
    }
  }

  depends_on = [google_pubsub_topic_iam_member.cloudasset_agent_publishes_changes]
}

resource "google_cloud_asset_folder_feed" "changes" {
  count = local.scope_kind == "folders" ? 1 : 0

  billing_project = var.project_id
  folder          = local.scope_id
  feed_id         = "lzsync-asset-changes"
  content_type    = "RESOURCE"
  asset_types     = var.asset_types

  feed_output_config {
    pubsub_destination {
      topic = google_pubsub_topic.asset_changes.id
    }
  }

  depends_on = [google_pubsub_topic_iam_member.cloudasset_agent_publishes_changes]
}

resource "google_cloud_asset_project_feed" "changes" {
  count = local.scope_kind == "projects" ? 1 : 0

  project = local.scope_id
  # Without it the feed publishes as the scoped project's Cloud Asset agent; the grant in
  # iam.tf is to this project's agent, as for the organization and folder feeds.
  billing_project = var.project_id
  feed_id         = "lzsync-asset-changes"
  content_type    = "RESOURCE"
  asset_types     = var.asset_types

  feed_output_config {
    pubsub_destination {
      topic = google_pubsub_topic.asset_changes.id
    }
  }

  depends_on = [google_pubsub_topic_iam_member.cloudasset_agent_publishes_changes]
}
