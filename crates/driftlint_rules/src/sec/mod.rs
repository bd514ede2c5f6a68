//! No inline secrets: plaintext Secrets, literal credentials, known token formats.

pub(crate) mod configmap_secret_content;
pub(crate) mod env_literal_credential;
pub(crate) mod known_token_pattern;
pub(crate) mod secret_plaintext_committed;
