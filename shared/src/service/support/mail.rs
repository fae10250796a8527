//! Emails from the templates in `shared/templates/mail/`, one file per language.

use std::collections::HashMap;

use crate::domain::{Email, Locale, MailKind};
use crate::ports::{Letter, OutgoingMail};

#[derive(serde::Deserialize)]
struct Template {
    subject: String,
    text: String,
    html: String,
}

pub struct MailTemplates(HashMap<Locale, HashMap<String, Template>>);

const SOURCES: [(Locale, &str); 3] = [
    (Locale::En, include_str!("../../../templates/mail/en.toml")),
    (Locale::Uk, include_str!("../../../templates/mail/uk.toml")),
    (Locale::Pl, include_str!("../../../templates/mail/pl.toml")),
];

impl MailTemplates {
    /// The compiled-in templates, parsed on first use: only the functions that mail parse or
    /// even hold them. (They always parse: a test checks it.)
    pub fn compiled() -> &'static Self {
        static TEMPLATES: std::sync::LazyLock<MailTemplates> = std::sync::LazyLock::new(|| {
            MailTemplates::builtin().expect("the compiled-in mail templates parse")
        });
        &TEMPLATES
    }

    fn builtin() -> Result<Self, toml::de::Error> {
        let mut all = HashMap::new();
        for (locale, source) in SOURCES {
            all.insert(locale, toml::from_str(source)?);
        }
        Ok(Self(all))
    }

    /// A letter of the outbox, rendered as it is sent, with its tags.
    pub fn render_letter(&self, letter: &Letter) -> OutgoingMail {
        let values: Vec<(&str, &str)> = letter.values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mail = self.render(letter.kind, letter.locale, &letter.to, &values);
        OutgoingMail { tags: letter.tags.clone(), ..mail }
    }

    /// Fills `kind`'s template in `locale` with `values`; HTML gets escaped values.
    pub fn render(
        &self,
        kind: MailKind,
        locale: Locale,
        to: &Email,
        values: &[(&str, &str)],
    ) -> OutgoingMail {
        let template = self
            .0
            .get(&locale)
            .and_then(|kinds| kinds.get(kind.key()))
            .expect("every language has every kind (checked by a test)");
        let fill = |text: &str, encode: fn(&str) -> String| {
            values.iter().fold(text.to_owned(), |acc, (name, value)| {
                acc.replace(&format!("{{{name}}}"), &encode(value))
            })
        };
        OutgoingMail {
            tags: Vec::new(),
            to: to.clone(),
            subject: fill(&template.subject, |v| v.replace(['\r', '\n'], " ")),
            text: fill(&template.text, str::to_owned),
            html: fill(&template.html, html_escape),
        }
    }
}

pub fn html_escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_renders_every_kind_with_its_values_filled() {
        let templates = MailTemplates::builtin().unwrap();
        let to = Email::parse("anna@shop.example").unwrap();
        for locale in [Locale::En, Locale::Uk, Locale::Pl] {
            for kind in [
                MailKind::Invitation,
                MailKind::OwnerActivation,
                MailKind::PasswordSet,
                MailKind::PasswordReset,
                MailKind::PasswordChanged,
                MailKind::OwnershipTransferredNewOwner,
                MailKind::OwnershipTransferredFormerOwner,
                MailKind::InvitationUndelivered,
                MailKind::SecondFactorReset,
                MailKind::SecondFactorEnabled,
                MailKind::SecondFactorDisabled,
            ] {
                let mail = templates.render(
                    kind,
                    locale,
                    &to,
                    &[
                        ("account_name", "Shop <&> Co"),
                        ("marketplace", "Ozon"),
                        ("inviter", "Olena"),
                        ("roles", "Product manager"),
                        ("link", "http://127.0.0.1:3000/activate#token=abc"),
                        ("expires_at", "2026-11-24 12:00 UTC"),
                        ("email", "anna@shop.example"),
                        ("changed_at", "2026-11-24 12:00 UTC"),
                        ("former_owner", "Olena"),
                        ("new_owner", "Anna"),
                        ("former_role", "Administrator"),
                        ("reason", "the address does not exist or refuses mail."),
                        ("inviter_email", "olena@shop.example"),
                    ],
                );
                assert_eq!(serde_json::to_value(kind).unwrap(), kind.key(), "a letter names its template");
                for text in [&mail.subject, &mail.text, &mail.html] {
                    assert!(!text.contains('{'), "{locale:?} {kind:?} left a placeholder: {text}");
                }
                let carries_link = matches!(
                    kind,
                    MailKind::Invitation
                        | MailKind::OwnerActivation
                        | MailKind::PasswordSet
                        | MailKind::PasswordReset
                );
                assert_eq!(
                    mail.text.contains("http://127.0.0.1:3000/activate#token=abc"),
                    carries_link,
                    "{locale:?} {kind:?}"
                );
                assert!(
                    mail.html.contains("Shop &lt;&amp;&gt; Co") || !mail.html.contains("Shop"),
                    "{locale:?} {kind:?}"
                );
            }
        }
    }
}
