//! Chat by webhook through `ureq`: the Slack-compatible incoming-webhook format (also
//! Mattermost and Rocket.Chat), or a generic JSON document signed with HMAC-SHA256 in
//! `X-Ims-Signature: sha256=<hex>`. Both carry `Idempotency-Key: <Message-ID>`, so a
//! receiver can drop a message resent after a crash.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Answer, Letter};
use crate::error::Result;
use crate::model::delivery::AttemptResult;
use crate::model::notifications::{ChatKind, ChatTarget};

pub struct Target {
    kind: ChatKind,
    url: String,
    key: Option<String>,
    agent: ureq::Agent,
}

/// The signature header's value for `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Target {
    /// The target the settings name, with its URL and key read now.
    pub fn new(name: &str, t: &ChatTarget) -> Result<Target> {
        let url = super::secret(&format!("notifications.chat.{name}.url"), &t.url_env, &t.url_file)?;
        let key = match t.kind {
            ChatKind::Webhook => {
                Some(super::secret(&format!("notifications.chat.{name}.key"), &t.key_env, &t.key_file)?)
            }
            ChatKind::Slack => None,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        Ok(Target { kind: t.kind, url, key, agent })
    }

    pub fn send(&self, l: &Letter) -> Answer {
        let body = match self.kind {
            ChatKind::Slack => serde_json::json!({
                "text": format!("*{}*\n{}", l.subject, l.json["message"].as_str().unwrap_or_default()),
            }),
            ChatKind::Webhook => l.json.clone(),
        };
        let bytes = serde_json::to_vec(&body).expect("JSON serialises");
        let mut req = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &l.due.message_id)
            .header("User-Agent", concat!("ims/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = &self.key {
            req = req.header("X-Ims-Signature", &signature(key.as_bytes(), &bytes));
        }
        match req.send(&bytes[..]) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                let result = match status {
                    200..=299 => AttemptResult::Sent,
                    408 | 429 | 500..=599 => AttemptResult::Temporary,
                    _ => AttemptResult::Permanent,
                };
                Answer { result, code: Some(status), answer: format!("HTTP {status} {text}") }
            }
            // No answer (refused, timed out, TLS): the URL is a secret, so it is not shown.
            Err(e) => Answer {
                result: AttemptResult::Temporary,
                code: None,
                answer: format!("no answer: {}", e.to_string().replace(&self.url, "<url>")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
