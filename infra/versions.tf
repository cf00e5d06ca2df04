terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
  # The budget API bills its calls to a quota project: with user credentials (ADC) it must be
  # set explicitly; with a service account the account's own project is used.
  user_project_override = var.billing_account_id != null
  billing_project       = var.billing_account_id != null ? var.project_id : null
}
