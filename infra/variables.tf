# --- where ---

variable "project_id" {
  description = "Project that holds Firestore, the topics, the functions and the history dataset."
  type        = string
}

variable "region" {
  description = "Region of the functions, the Scheduler jobs and (by default) Firestore."
  type        = string
}

variable "asset_scope" {
  description = "What the asset layers read and the feed watches: organizations/N, folders/N or projects/ID (LZSYNC_ASSET_SCOPE)."
  type        = string

  validation {
    condition     = can(regex("^(organizations/[0-9]+|folders/[0-9]+|projects/[a-z0-9-]+)$", var.asset_scope))
    error_message = "asset_scope must be organizations/N, folders/N or projects/ID."
  }
}

variable "labels" {
  description = "Extra labels on every labelled resource (app = lzsync is always set)."
  type        = map(string)
  default     = {}
}

variable "enable_apis" {
  description = "Enable the APIs lzsync uses (never disabled on destroy)."
  type        = bool
  default     = true
}

# --- what lzsync syncs ---

variable "repositories" {
  description = "Landing-zone repositories to sync (LZSYNC_REPOS): GitHub full name, clone URL, branch, include/exclude globs."
  type = list(object({
    name    = string
    url     = string
    branch  = optional(string, "main")
    include = optional(list(string), ["**"])
    exclude = optional(list(string), [])
  }))

  validation {
    condition     = alltrue([for repo in var.repositories : can(regex("^[^/]+/[^/]+$", repo.name))])
    error_message = "Each repository name must be owner/repo, as GitHub spells it in push payloads."
  }
}

variable "asset_types" {
  description = "Asset types the snapshot lists, the history exports and the feed publishes (LZSYNC_ASSET_TYPES); the library's default set."
  type        = list(string)
  default = [
    "cloudresourcemanager.googleapis.com/Organization",
    "cloudresourcemanager.googleapis.com/Folder",
    "cloudresourcemanager.googleapis.com/Project",
    "compute.googleapis.com/Network",
    "compute.googleapis.com/Subnetwork",
    "compute.googleapis.com/Firewall",
    "compute.googleapis.com/FirewallPolicy",
    "compute.googleapis.com/Router",
    "compute.googleapis.com/Instance",
    "compute.googleapis.com/Disk",
    "container.googleapis.com/Cluster",
    "storage.googleapis.com/Bucket",
    "iam.googleapis.com/ServiceAccount",
    "cloudkms.googleapis.com/KeyRing",
    "cloudkms.googleapis.com/CryptoKey",
    "sqladmin.googleapis.com/Instance",
    "bigquery.googleapis.com/Dataset",
    "dns.googleapis.com/ManagedZone",
    "appengine.googleapis.com/Service",
    "serviceusage.googleapis.com/Service",
  ]
}

variable "collection_prefix" {
  description = "Prefix of every Firestore collection (LZSYNC_COLLECTION_PREFIX); TTL policies and indexes follow it."
  type        = string
  default     = ""
}

variable "log_level" {
  description = "LZSYNC_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

# --- schedules (README: "Deploying with gcloud"), all in schedule_time_zone ---

variable "snapshot_schedule" {
  description = "Cron schedule of the asset snapshot (layer 3)."
  type        = string
  default     = "*/5 * * * *"
}

variable "git_reconcile_schedule" {
  description = "Cron schedule of the {\"trigger\":\"schedule\"} message that reconciles every repository (layer 2)."
  type        = string
  default     = "0 */6 * * *"
}

variable "history_schedule" {
  description = "Cron schedule of the daily history export of yesterday (layer 5); after midnight UTC."
  type        = string
  default     = "30 0 * * *"
}

variable "freshness_schedule" {
  description = "Cron schedule of the freshness check."
  type        = string
  default     = "*/15 * * * *"
}

variable "schedule_time_zone" {
  description = "Time zone of every Scheduler job. The history export exports yesterday in UTC."
  type        = string
  default     = "Etc/UTC"
}

# --- functions ---

variable "source_dir" {
  description = "Folder holding `make package` output, one subfolder per function. Default: dist/functions at the repository root."
  type        = string
  default     = null
}

variable "functions" {
  description = "Per-function overrides of memory (e.g. 512M), cpu, timeout_seconds, max_instances, concurrency; keys are the package names (webhook, git_sync, asset_snapshot, asset_events, bq_export, freshness_check)."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    max_instances   = optional(number)
    concurrency     = optional(number)
  }))
  default = {}

  validation {
    condition = alltrue([
      for name in keys(var.functions) :
      contains(["webhook", "git_sync", "asset_snapshot", "asset_events", "bq_export", "freshness_check"], name)
    ])
    error_message = "functions keys must be function package names."
  }
}

variable "build_service_account" {
  description = "Service account (projects/P/serviceAccounts/EMAIL) Cloud Build uses to build the functions; null keeps the project's default build account."
  type        = string
  default     = null
}

# --- Pub/Sub delivery ---

variable "max_delivery_attempts" {
  description = "Deliveries of one message before it moves to the dead-letter topic (5 to 100)."
  type        = number
  default     = 5
}

variable "retry_minimum_backoff" {
  description = "Shortest wait before Pub/Sub redelivers a failed message."
  type        = string
  default     = "10s"
}

variable "retry_maximum_backoff" {
  description = "Longest wait before Pub/Sub redelivers a failed message (at most 600s)."
  type        = string
  default     = "600s"
}

# --- Firestore ---

variable "create_firestore_database" {
  description = "Create the (default) Native-mode database; false when the project already has one (or import it)."
  type        = bool
  default     = true
}

variable "firestore_location" {
  description = "Firestore location (e.g. eur3, nam5, europe-west1); default: region."
  type        = string
  default     = null
}

variable "firestore_rules_file" {
  description = "Security rules to release for the Portal's readers; default: firestore.rules at the repository root. No file, no release (clients are then refused)."
  type        = string
  default     = null
}

variable "firestore_indexes_file" {
  description = "Composite indexes in the Firebase CLI format (firestore.indexes.json); default: the one at the repository root, if present."
  type        = string
  default     = null
}

# --- history (BigQuery) ---

variable "history_location" {
  description = "Location of the lzsync_history dataset (LZSYNC_HISTORY_LOCATION); must match the billing export's for the cost views."
  type        = string
  default     = "US"
}

variable "history_billing_export_table" {
  description = "project.dataset.table of the standard Cloud Billing export (LZSYNC_HISTORY_BILLING_EXPORT_TABLE); adds the cost views. Grant bq_export read access to it yourself."
  type        = string
  default     = null
}

# --- alerts and cost ---

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) for the stale-layer alert and the budget (at most 5 for the budget)."
  type        = list(string)
  default     = []
}

variable "billing_account_id" {
  description = "Billing account (XXXXXX-XXXXXX-XXXXXX) to attach a budget to; null creates no budget."
  type        = string
  default     = null
}

variable "budget_amount" {
  description = "Monthly budget for the project, in whole budget_currency units."
  type        = number
  default     = 50

  validation {
    # Sent as specified_amount.units, a string of whole units.
    condition     = var.budget_amount > 0 && floor(var.budget_amount) == var.budget_amount
    error_message = "budget_amount must be a positive whole number."
  }
}

variable "budget_currency" {
  description = "Currency of budget_amount; must be the billing account's."
  type        = string
  default     = "USD"
}

