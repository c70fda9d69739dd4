# Reads functions/catalogue.yaml and derives everything the rest of the configuration needs
# from it: the normalised functions, the URL-map routes of each load balancer and the
# database connection budget. This module has no providers and creates nothing, so it can be
# planned (and is, by tests/terraform) without network access or GCP credentials.

locals {
  raw      = yamldecode(file(var.catalogue_file))
  defaults = local.raw.defaults

  # Every entry merged with `defaults`: each key of `sizing` / `db_pool` overrides the default
  # key of the same name, `source` defaults to the entry's key, `runtime` to defaults.runtime.
  functions = {
    for name, fn in local.raw.functions : name => {
      name        = name
      source      = try(fn.source, name)
      entry_point = fn.entry_point
      runtime     = try(fn.runtime, local.defaults.runtime)
      ingress     = fn.ingress
      http        = try(fn.trigger == "http", false)
      event_trigger = try({
        pubsub_topic = tostring(fn.trigger.pubsub_topic)
        schedule     = tostring(fn.trigger.schedule)
      }, null)
      # {domain_events: true, dead_letter_after: N}: a push subscription on the domain-events
      # topic; after N failed deliveries the message goes to <name>-dead-letter.
      domain_events     = try(fn.trigger.domain_events == true, false)
      dead_letter_after = try(tonumber(fn.trigger.dead_letter_after), null)
      paths             = try([for p in fn.paths : tostring(p)], [])
      sizing            = merge(local.defaults.sizing, try(fn.sizing, {}))
      db_pool           = merge(local.defaults.db_pool, try(fn.db_pool, {}))
      secrets           = [for s in try(fn.secrets, []) : tostring(s)]
      project_roles     = [for r in try(fn.project_roles, []) : tostring(r)]
    }
  }

  public_functions        = { for name, fn in local.functions : name => fn if fn.ingress == "public" }
  internal_http_functions = { for name, fn in local.functions : name => fn if fn.ingress == "internal" && fn.http }
  event_functions         = { for name, fn in local.functions : name => fn if fn.event_trigger != null }
  domain_event_functions  = { for name, fn in local.functions : name => fn if fn.domain_events }
  # Anything delivered by Pub/Sub rather than by an HTTP client.
  triggered = { for name, fn in local.functions : name => fn.event_trigger != null || fn.domain_events }

  # Catalogue prefix → URL-map path patterns. "/x/" owns everything below /x/ → "/x/*";
  # "/x" owns /x itself and everything below /x/ → "/x" and "/x/*". (A URL map matches a
  # path exactly unless the pattern ends in "/*".)
  url_map_paths = {
    for name, fn in local.functions : name => flatten([
      for p in fn.paths : endswith(p, "/") ? ["${p}*"] : [p, "${p}/*"]
    ])
  }

  # What each load balancer routes: function name → its URL-map path patterns.
  public_routes   = { for name, fn in local.public_functions : name => local.url_map_paths[name] }
  internal_routes = { for name, fn in local.internal_http_functions : name => local.url_map_paths[name] }

  # Connection budget: an instance's pool opens at most size + overflow connections.
  db_per_function = {
    for name, fn in local.functions : name => fn.sizing.max_instances * (fn.db_pool.size + fn.db_pool.overflow)
  }
  db_worst_case = sum(concat([0], values(local.db_per_function)))
  db_budget_lines = [
    for name, fn in local.functions :
    "${name} ${fn.sizing.max_instances}×(${fn.db_pool.size}+${fn.db_pool.overflow})=${local.db_per_function[name]}"
  ]

  all_url_map_paths = flatten(values(local.url_map_paths))
  internal_prefixes = flatten([for name, fn in local.functions : fn.paths if fn.ingress == "internal"])

  # Each rule below yields one message per offending entry; the catalogue_file validation
  # fails the plan when any is present.
  problems = concat(
    [for name, fn in local.functions : "${name}: the name must be 3-27 characters of a-z, 0-9 and '-' (it names the function, its service account and its load-balancer resources)" if !can(regex("^[a-z][a-z0-9-]{1,25}[a-z0-9]$", name))],
    [for name, fn in local.functions : "${name}: ingress must be \"public\" or \"internal\", not \"${fn.ingress}\"" if !contains(["public", "internal"], fn.ingress)],
    [for name, fn in local.functions : "${name}: trigger must be \"http\", {pubsub_topic, schedule} or {domain_events: true, dead_letter_after}" if length([for kind in [fn.http, fn.event_trigger != null, fn.domain_events] : kind if kind]) != 1],
    [for name, fn in local.functions : "${name}: trigger.dead_letter_after must be a number between 5 and 100 (Pub/Sub's delivery attempts)" if fn.domain_events && (fn.dead_letter_after == null || try(fn.dead_letter_after < 5 || fn.dead_letter_after > 100, true))],
    [for name, fn in local.functions : "${name}: a public function must have trigger \"http\"" if fn.ingress == "public" && !fn.http],
    [for name, fn in local.functions : "${name}: an HTTP function needs at least one path prefix" if fn.http && length(fn.paths) == 0],
    [for name, fn in local.functions : "${name}: an event-triggered function must be internal and own no paths" if local.triggered[name] && (fn.ingress != "internal" || length(fn.paths) > 0)],
    flatten([for name, fn in local.functions : [for p in fn.paths : "${name}: path prefix \"${p}\" must start with \"/\", contain no \"*\" and not be \"/\"" if !startswith(p, "/") || strcontains(p, "*") || p == "/"]]),
    [for name, fn in local.functions : "${name}: sizing.threads (${fn.sizing.threads}) must be at least sizing.concurrency (${fn.sizing.concurrency}): every request holds a thread" if fn.sizing.threads < fn.sizing.concurrency],
    [for name, fn in local.functions : "${name}: sizing.concurrency must be between 1 and 1000 (Cloud Run's maximum)" if fn.sizing.concurrency < 1 || fn.sizing.concurrency > 1000],
    [for name, fn in local.functions : "${name}: sizing.concurrency > 1 needs sizing.cpu of at least 1" if fn.sizing.concurrency > 1 && tonumber(fn.sizing.cpu) < 1],
    [for name, fn in local.functions : "${name}: sizing.min_instances must be between 0 and max_instances, and max_instances at least 1" if fn.sizing.min_instances < 0 || fn.sizing.max_instances < 1 || fn.sizing.min_instances > fn.sizing.max_instances],
    [for name, fn in local.functions : "${name}: sizing.timeout_s must be 1-3600 for HTTP functions and 1-540 for event-triggered ones" if fn.sizing.timeout_s < 1 || fn.sizing.timeout_s > (fn.http ? 3600 : 540)],
    [for name, fn in local.functions : "${name}: db_pool.size and db_pool.overflow cannot be negative" if fn.db_pool.size < 0 || fn.db_pool.overflow < 0],
    flatten([for name, fn in local.functions : [for s in fn.secrets : "${name}: unknown secret \"${s}\" (known: ${join(", ", var.known_secrets)})" if !contains(var.known_secrets, s)]]),
    flatten([for name, fn in local.functions : [for r in fn.project_roles : "${name}: project role \"${r}\" must start with \"roles/\"" if !startswith(r, "roles/")]]),
    [for p in distinct(local.all_url_map_paths) : "URL-map path \"${p}\" is claimed by more than one function" if length([for q in local.all_url_map_paths : q if q == p]) > 1],
    flatten([for name, fn in local.public_functions : [for p in fn.paths : [for i in local.internal_prefixes : "${name}: public prefix \"${p}\" covers the internal prefix \"${i}\", so the public load balancer would answer internal paths" if startswith(i, p)]]]),
  )
}
