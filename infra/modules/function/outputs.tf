output "name" {
  value = google_cloudfunctions2_function.this.name
}

output "uri" {
  description = "The function's HTTPS endpoint (its Cloud Run service URL): push and Scheduler target and OIDC audience."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}

output "service_name" {
  description = "The Cloud Run service behind the function (service_config.service, as the API reports it), where run.invoker is granted."
  value       = google_cloudfunctions2_function.this.service_config[0].service
}
