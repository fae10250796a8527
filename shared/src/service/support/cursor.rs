//! Opaque, tamper-proof page cursors: the store's position, bound to one list, signed with HMAC.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is invalid")]
pub struct InvalidCursor;

pub struct Cursors {
    key: hmac::Key,
}

impl Cursors {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    /// `scope` names the list (kind, account, filters), so a cursor cannot be replayed on another.
    pub fn seal(&self, scope: &str, position: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(position);
        let tag = hmac::sign(&self.key, format!("{scope}\n{payload}").as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    pub fn open(&self, scope: &str, cursor: &str) -> Result<String, InvalidCursor> {
        let (payload, tag) = cursor.split_once('.').ok_or(InvalidCursor)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| InvalidCursor)?;
        hmac::verify(&self.key, format!("{scope}\n{payload}").as_bytes(), &tag).map_err(|_| InvalidCursor)?;
        let position = URL_SAFE_NO_PAD.decode(payload).map_err(|_| InvalidCursor)?;
        String::from_utf8(position).map_err(|_| InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_open_only_unaltered_and_in_their_own_list() {
        let cursors = Cursors::new(b"secret");
        let sealed = cursors.seal("members/a", "0190-user");
        assert_eq!(cursors.open("members/a", &sealed), Ok("0190-user".to_owned()));
        assert_eq!(cursors.open("members/b", &sealed), Err(InvalidCursor));
        let mut altered = sealed.clone();
        altered.insert(0, 'A');
        assert_eq!(cursors.open("members/a", &altered), Err(InvalidCursor));
        assert_eq!(cursors.open("members/a", "garbage"), Err(InvalidCursor));
    }
}
