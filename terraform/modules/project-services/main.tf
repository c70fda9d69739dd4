# Enables the Google APIs the estate uses. Other modules take `project_id` from this
# module's output, so nothing is created before the APIs it needs are on.

resource "google_project_service" "this" {
  for_each = toset(var.services)

  project = var.project_id
  service = each.value

  # Turning an API off on destroy would break anything else in the project that uses it.
  disable_on_destroy         = false
  disable_dependent_services = false
}
