output "events_topic_id" {
  description = "Full name of the domain-events topic (projects/P/topics/T), the functions' EVENTS_TOPIC."
  value       = google_pubsub_topic.events.id
}

output "events_topic_name" {
  description = "Short name of the domain-events topic."
  value       = google_pubsub_topic.events.name
}

output "scheduled_topic_ids" {
  description = "Scheduled function name → full name of the topic its trigger listens to."
  value       = { for k, t in google_pubsub_topic.scheduled : k => t.id }
}

output "scheduler_job_ids" {
  description = "Scheduled function name → full Cloud Scheduler job name (projects/P/locations/R/jobs/J)."
  value       = { for k, j in google_cloud_scheduler_job.scheduled : k => j.id }
}
