variable "project_id" {
  description = "Project of the secrets."
  type        = string
}

variable "region" {
  description = "The one region the secrets are stored in (user-managed replication)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the secret names, e.g. \"halo\" → halo-xendit-api-key."
  type        = string
}

variable "labels" {
  description = "Labels on the secrets."
  type        = map(string)
  default     = {}
}

variable "operator_token_key_version" {
  description = "Bump to generate a new operator-token signing key (rotation: every operator signs in again)."
  type        = number

  validation {
    condition     = var.operator_token_key_version >= 1 && floor(var.operator_token_key_version) == var.operator_token_key_version
    error_message = "operator_token_key_version must be a whole number, at least 1."
  }
}

variable "xendit_api_key" {
  description = "Xendit secret API key (xnd_production_… or xnd_development_…). Ephemeral: never stored in state or plans."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "xendit_callback_token" {
  description = "Xendit webhook verification token (dashboard → Callbacks). Ephemeral: never stored in state or plans."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "xendit_secrets_version" {
  description = "Bump together with new Xendit values to write them as new secret versions (rotation)."
  type        = number

  validation {
    condition     = var.xendit_secrets_version >= 1 && floor(var.xendit_secrets_version) == var.xendit_secrets_version
    error_message = "xendit_secrets_version must be a whole number, at least 1."
  }
}

variable "chat_keys" {
  description = "Chat keyring kid:base64key[,kid:base64key…] (32-byte AES keys; the last is used for new messages). Ephemeral: never stored in state or plans."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "chat_keys_version" {
  description = "Bump together with a new keyring (old keys kept, a new one appended) to write it as a new secret version."
  type        = number

  validation {
    condition     = var.chat_keys_version >= 1 && floor(var.chat_keys_version) == var.chat_keys_version
    error_message = "chat_keys_version must be a whole number, at least 1."
  }
}
