# Alerts: a log-based metric counting the freshness check's stale-layer lines (one per change
# to stale, README "Freshness check and alerts") and a policy that opens an incident on any,
# plus an optional monthly budget on the project.

resource "google_logging_metric" "layer_stale" {
  project     = var.project_id
  name        = "lzsync-layer-stale"
  description = "lzsync freshness_check: a layer became stale (one log line per change)."
  filter      = "jsonPayload.alert=\"lzsync_layer_stale\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "layer"
      value_type  = "STRING"
      description = "webhook, git, assets, events or history"
    }
  }

  label_extractors = {
    layer = "EXTRACT(jsonPayload.layer)"
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "layer_stale" {
  project               = var.project_id
  display_name          = "lzsync: a layer is stale"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "lzsync_layer_stale logged"

    condition_threshold {
      # The metric type alone selects the series: no resource.type clause, so the condition
      # does not depend on which monitored resource the functions' log lines are written under.
      filter          = "metric.type = \"logging.googleapis.com/user/${google_logging_metric.layer_stale.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.layer"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An lzsync layer has not succeeded within its stale threshold. `lzsync status` shows each layer's state, age and last error; `sync_status/<layer>` in Firestore holds the same. The freshness check logs `lzsync_layer_recovered` when it catches up."
  }
}

resource "google_billing_budget" "project" {
  count = var.billing_account_id == null ? 0 : 1

  billing_account = var.billing_account_id
  display_name    = "lzsync ${var.project_id}"

  budget_filter {
    projects = ["projects/${local.project_number}"]
  }

  amount {
    specified_amount {
      currency_code = var.budget_currency
      units         = tostring(var.budget_amount)
    }
  }

  threshold_rules {
    threshold_percent = 0.5
  }
  threshold_rules {
    threshold_percent = 0.9
  }
  threshold_rules {
    threshold_percent = 1.0
  }
  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  # all_updates_rule needs pubsub_topic or monitoring_notification_channels (at most 5); with
  # no channels the block is left out and the billing account's default recipients get the
  # threshold mails.
  dynamic "all_updates_rule" {
    for_each = length(var.notification_channels) > 0 ? [var.notification_channels] : []
    content {
      monitoring_notification_channels = all_updates_rule.value
      disable_default_iam_recipients   = false
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.notification_channels) <= 5
      error_message = "A budget takes at most 5 notification channels (notification_channels)."
    }
  }

  depends_on = [google_project_service.this]
}
