//! Emails from the templates in `shared/templates/mail/`, one file per language: the outbox's
//! letters (`letters/`), rendered only where the outbox is sent (`mail-events`, the dev
//! server), apart from the notices a function sends itself (`notices/`), so that a function
//! carries only the text it may send.

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

type Sources = [(Locale, &'static str); 3];

const LETTERS: Sources = [
    (Locale::En, include_str!("../../../templates/mail/letters/en.toml")),
    (Locale::Uk, include_str!("../../../templates/mail/letters/uk.toml")),
    (Locale::Pl, include_str!("../../../templates/mail/letters/pl.toml")),
];

const NOTICES: Sources = [
    (Locale::En, include_str!("../../../templates/mail/notices/en.toml")),
    (Locale::Uk, include_str!("../../../templates/mail/notices/uk.toml")),
    (Locale::Pl, include_str!("../../../templates/mail/notices/pl.toml")),
];

impl MailTemplates {
    /// The letters' templates (`MailKind::is_letter`), parsed on first use. (They always
    /// parse: a test checks it.)
    pub fn letters() -> &'static Self {
        static TEMPLATES: std::sync::LazyLock<MailTemplates> = std::sync::LazyLock::new(|| {
            MailTemplates::parse(&LETTERS).expect("the letters' templates parse")
        });
        &TEMPLATES
    }

    /// The notices' templates, parsed on first use.
    pub fn notices() -> &'static Self {
        static TEMPLATES: std::sync::LazyLock<MailTemplates> = std::sync::LazyLock::new(|| {
            MailTemplates::parse(&NOTICES).expect("the notices' templates parse")
        });
        &TEMPLATES
    }

    fn parse(sources: &Sources) -> Result<Self, toml::de::Error> {
        let mut all = HashMap::new();
        for (locale, source) in sources {
            all.insert(*locale, toml::from_str(source)?);
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
            .expect("every language has every kind of its set (checked by a test)");
        OutgoingMail {
            tags: Vec::new(),
            to: to.clone(),
            subject: fill(&template.subject, values, |v| v.replace(['\r', '\n'], " ")),
            text: fill(&template.text, values, str::to_owned),
            html: fill(&template.html, values, |v| html_escape(v).replace('\n', "<br>\n")),
        }
    }
}

/// `template` with each `{name}` replaced by its value, `encode`d, in one pass: a value is
/// never read as template (an inviter's note that says `{link}` stays as written). The text
/// between `{?name}` and `{/name}` is kept only when `name`'s value is not empty. An unknown
/// placeholder stays as it is, for the tests to find.
fn fill(template: &str, values: &[(&str, &str)], encode: fn(&str) -> String) -> String {
    let value = |name: &str| values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let Some((name, after)) = after.split_once('}') else {
            out.push('{');
            rest = after;
            continue;
        };
        rest = after;
        if let Some(section) = name.strip_prefix('?') {
            let end = format!("{{/{section}}}");
            let (inner, after) = rest.split_once(&end).unwrap_or((rest, ""));
            if value(section).is_some_and(|v| !v.is_empty()) {
                out.push_str(&fill(inner, values, encode));
            }
            rest = after;
        } else {
            match value(name) {
                Some(v) => out.push_str(&encode(v)),
                None => out.push_str(&format!("{{{name}}}")),
            }
        }
    }
    out.push_str(rest);
    out
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
        let (letters, notices) =
            (MailTemplates::parse(&LETTERS).unwrap(), MailTemplates::parse(&NOTICES).unwrap());
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
                let templates = if kind.is_letter() { &letters } else { &notices };
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
                        ("message", "Welcome!"),
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
                // A misspelt or unclosed section would drop the note without a trace.
                let carries_note = matches!(kind, MailKind::Invitation | MailKind::PasswordSet);
                for text in [&mail.text, &mail.html] {
                    assert_eq!(text.contains("Welcome!"), carries_note, "{locale:?} {kind:?}");
                    assert!(text.contains("--") || text.contains("</html>"), "{locale:?} {kind:?} ends");
                }
            }
        }
    }

    #[test]
    fn a_note_is_filled_once_escaped_with_its_line_breaks_and_left_out_when_empty() {
        let templates = MailTemplates::parse(&LETTERS).unwrap();
        let to = Email::parse("anna@shop.example").unwrap();
        let values = |message| {
            [
                ("account_name", "Shop"),
                ("marketplace", "Ozon"),
                ("inviter", "Olena"),
                ("roles", "Viewer"),
                ("link", "http://127.0.0.1:3000/activate#token=abc"),
                ("expires_at", "2026-11-24 12:00 UTC"),
                ("email", "anna@shop.example"),
                ("message", message),
            ]
        };
        let note = "See you <b>Monday</b>!\nYour link: {link}";
        let mail = templates.render(MailKind::Invitation, Locale::En, &to, &values(note));
        assert!(mail.text.contains("A message from Olena:\n\nSee you <b>Monday</b>!\nYour link: {link}\n"));
        assert!(mail.html.contains("See you &lt;b&gt;Monday&lt;/b&gt;!<br>\nYour link: {link}</p>"));
        let without = templates.render(MailKind::Invitation, Locale::En, &to, &values(""));
        assert!(!without.text.contains("A message from") && !without.html.contains("A message from"));
        assert!(!without.text.contains('{') && !without.html.contains('{'));
    }
}
