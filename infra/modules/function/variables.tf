variable "project_id" {
  type = string
}

variable "region" {
  type = string
}

variable "name" {
  description = "Function (and Cloud Run service) name."
  type        = string
}

variable "description" {
  type = string
}

variable "entry_point" {
  description = "The decorated function in main.py."
  type        = string
}

variable "source_dir" {
  description = "The function's `make package` folder (main.py, lzsync/, requirements.txt)."
  type        = string
}

variable "source_bucket" {
  description = "Bucket the zipped source is uploaded to."
  type        = string
}

variable "service_account_email" {
  description = "The function's own runtime identity."
  type        = string
}

variable "build_service_account" {
  type    = string
  default = null
}

variable "memory" {
  type = string
}

variable "cpu" {
  type = string
}

variable "timeout_seconds" {
  type = number
}

variable "max_instances" {
  type = number
}

variable "concurrency" {
  type = number
}

variable "ingress" {
  description = "ALLOW_ALL only for the public webhook; ALLOW_INTERNAL_ONLY admits Scheduler and Pub/Sub of the same project."
  type        = string
}

variable "environment" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secret_environment" {
  description = "Environment variable name => Secret Manager secret id (latest version, read at instance start)."
  type        = map(string)
  default     = {}
}

variable "labels" {
  type    = map(string)
  default = {}
}
