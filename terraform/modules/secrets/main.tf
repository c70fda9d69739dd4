# The application's secrets in Secret Manager. Values never enter Terraform state or plan
# files: they are write-only arguments (Terraform >= 1.11) fed from ephemeral values.
#   OPERATOR_TOKEN_SECRET  signing key of operator tokens, generated here
#   XENDIT_API_KEY         Xendit secret API key, from an ephemeral input variable
#   XENDIT_CALLBACK_TOKEN  Xendit webhook verification token, from an ephemeral input variable
#   CHAT_KEYS              chat keyring (kid:base64key,…; docs/chat.md), from an ephemeral
#                          input variable: rotation appends a key, so the whole ring is
#                          written anew with chat_keys_version bumped
# A new value is written only when its *_version number changes (rotation); the previous
# version is then disabled, not destroyed, so it can be re-enabled if the rotation goes wrong.

locals {
  # Environment variable name → secret name (after the prefix).
  secrets = {
    OPERATOR_TOKEN_SECRET = "operator-token-key"
    XENDIT_API_KEY        = "xendit-api-key"
    XENDIT_CALLBACK_TOKEN = "xendit-callback-token"
    CHAT_KEYS             = "chat-keys"
  }
}

resource "google_secret_manager_secret" "this" {
  # Google-managed encryption keys: a customer-managed KMS key adds a key ring to operate for
  # three small secrets, without a compliance requirement for it today.
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${var.name_prefix}-${each.value}"
  labels    = var.labels

  # Kept in the functions' region (data residency), not replicated worldwide.
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

ephemeral "random_password" "operator_token_key" {
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "operator_token_key" {
  secret                 = google_secret_manager_secret.this["OPERATOR_TOKEN_SECRET"].id
  secret_data_wo         = ephemeral.random_password.operator_token_key.result
  secret_data_wo_version = var.operator_token_key_version
  deletion_policy        = "DISABLE"

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_secret_manager_secret_version" "xendit_api_key" {
  secret                 = google_secret_manager_secret.this["XENDIT_API_KEY"].id
  secret_data_wo         = var.xendit_api_key
  secret_data_wo_version = var.xendit_secrets_version
  deletion_policy        = "DISABLE"

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_secret_manager_secret_version" "xendit_callback_token" {
  secret                 = google_secret_manager_secret.this["XENDIT_CALLBACK_TOKEN"].id
  secret_data_wo         = var.xendit_callback_token
  secret_data_wo_version = var.xendit_secrets_version
  deletion_policy        = "DISABLE"

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_secret_manager_secret_version" "chat_keys" {
  secret                 = google_secret_manager_secret.this["CHAT_KEYS"].id
  secret_data_wo         = var.chat_keys
  secret_data_wo_version = var.chat_keys_version
  deletion_policy        = "DISABLE"

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  versions = {
    CHAT_KEYS             = google_secret_manager_secret_version.chat_keys.version
    OPERATOR_TOKEN_SECRET = google_secret_manager_secret_version.operator_token_key.version
    XENDIT_API_KEY        = google_secret_manager_secret_version.xendit_api_key.version
    XENDIT_CALLBACK_TOKEN = google_secret_manager_secret_version.xendit_callback_token.version
  }
}
