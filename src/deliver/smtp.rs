//! Email by SMTP through `lettre`: one `multipart/alternative` message (plain text and
//! HTML) per recipient, with the message's stable `Message-ID` and the incident's
//! thread in `In-Reply-To` and `References`.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport as _};

use super::{Answer, Letter};
use crate::error::{Error, Result};
use crate::model::delivery::AttemptResult;
use crate::model::notifications::{self, Notifications, Security};

pub struct Smtp {
    transport: SmtpTransport,
}

impl Smtp {
    /// The transport the settings describe, with the password read now.
    pub fn new(n: &Notifications, s: &notifications::Smtp) -> Result<Smtp> {
        let bad = |e: lettre::transport::smtp::Error| Error::invalid(format!("notifications.smtp: {e}"));
        let builder = match s.security {
            Security::None => SmtpTransport::builder_dangerous(&s.host),
            Security::Starttls => SmtpTransport::starttls_relay(&s.host).map_err(bad)?,
            Security::Tls => SmtpTransport::relay(&s.host).map_err(bad)?,
        };
        let mut builder = builder.port(s.port).timeout(Some(std::time::Duration::from_secs(30)));
        if let Some(user) = &s.username {
            let password = super::secret("notifications.smtp.password", &s.password_env, &s.password_file)?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let _ = n;
        Ok(Smtp { transport: builder.build() })
    }

    /// Builds the message for `to` (RFC 5322 by lettre).
    pub fn message(n: &Notifications, l: &Letter, to: &str) -> Result<Message> {
        let from = n.from.as_deref().ok_or_else(|| Error::invalid("notifications.from: not set"))?;
        let mailbox = |name: Option<String>, addr: &str| -> Result<Mailbox> {
            Ok(Mailbox::new(name, addr.parse().map_err(|e| Error::invalid(format!("`{addr}`: {e}")))?))
        };
        let thread = format!("<{}>", n.thread_id(&l.incident.incident_id));
        Message::builder()
            .from(mailbox(Some("Incident management".into()), from)?)
            .to(mailbox(None, to)?)
            .subject(l.subject.clone())
            .message_id(Some(format!("<{}>", l.due.message_id)))
            .in_reply_to(thread.clone())
            .references(thread)
            .date_now()
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(l.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(l.html.clone())),
            )
            .map_err(|e| Error::invalid(format!("email to {to}: {e}")))
    }

    pub fn send(&self, n: &Notifications, l: &Letter, to: &str) -> Answer {
        let message = match Smtp::message(n, l, to) {
            Ok(m) => m,
            Err(e) => return Answer { result: AttemptResult::Permanent, code: None, answer: e.into_message() },
        };
        match self.transport.send(&message) {
            Ok(r) => Answer {
                result: AttemptResult::Sent,
                code: Some(u16::from(r.code())),
                answer: format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")),
            },
            Err(e) => Answer {
                result: if e.is_permanent() { AttemptResult::Permanent } else { AttemptResult::Temporary },
                code: e.status().map(u16::from),
                answer: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::delivery::{Kind, Transport};
    use crate::model::notifications::Recipient;
    use crate::procedures::communication::deliver::Due;

    #[test]
    fn a_message_is_multipart_alternative_threaded_under_its_incident() {
        let n: Notifications = serde_json::from_value(serde_json::json!({
            "from": "ims@example.com", "smtp": {"host": "localhost", "port": 25, "security": "none"}
        }))
        .unwrap();
        let mut incident = crate::model::Incident::blank();
        incident.incident_id = "INC-20261126-0000000001".into();
        incident.title = "Checkout fails — card payments".into();
        let due = Due {
            about: "COM-20261126-0000000002".into(),
            kind: Kind::Communication,
            recipient: Recipient::Email("user@example.com".into()),
            transport: Transport::Smtp,
            message_id: n.message_id("COM-20261126-0000000002", &Recipient::Email("user@example.com".into())),
            attempts: 0,
        };
        let letter = Letter {
            incident: &incident,
            due: &due,
            subject: format!("[{}] {}", incident.incident_id, incident.title),
            text: "Plain words.\n".into(),
            html: "<p>Plain words.</p>\n".into(),
            json: serde_json::json!({}),
        };
        let raw = String::from_utf8(Smtp::message(&n, &letter, "user@example.com").unwrap().formatted()).unwrap();
        if std::env::var_os("IMS_SHOW_EMAIL").is_some() {
            eprintln!("{raw}");
        }
        assert!(raw.contains(&format!("Message-ID: <{}>\r\n", due.message_id)), "{raw}");
        assert!(raw.contains("In-Reply-To: <INC-20261126-0000000001@example.com>\r\n"), "{raw}");
        assert!(raw.contains("References: <INC-20261126-0000000001@example.com>\r\n"), "{raw}");
        assert!(raw.contains("Content-Type: multipart/alternative;"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8")
                && raw.contains("Content-Type: text/html; charset=utf-8")
        );
        // A non-ASCII subject is encoded (RFC 2047): the message is ASCII throughout.
        assert!(raw.contains("Subject: [INC-20261126-0000000001] Checkout fails =?utf-8?"), "{raw}");
        assert!(raw.is_ascii(), "{raw}");
    }
}
