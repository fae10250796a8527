//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1, six digits, 30-second
//! steps — what every authenticator app shows for an `otpauth://totp/` URI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Seconds per step: a code changes this often.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a shared secret: RFC 4226 asks for at least 128 bits and recommends 160.
pub const SECRET_BYTES: usize = 20;
/// Steps either side of the current one whose codes are still accepted (a clock that is a
/// little off, a code typed as it changed).
const DRIFT_STEPS: u64 = 1;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The secret an authenticator app and Teamgate share. It is shown once, at enrollment, and
/// stored only sealed (`ports::Vault`).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

/// The step a time falls in (RFC 6238's `T`).
pub fn step_at(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp().div_euclid(STEP_SECONDS)).unwrap_or(0)
}

/// A code as typed: six digits, spaces and hyphens allowed between them (apps show `123 456`).
pub fn normalize_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

impl TotpSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in RFC 4648 base32 without padding, as apps take it when typed.
    pub fn base32(&self) -> String {
        let mut out = String::new();
        for chunk in self.0.chunks(5) {
            let mut block = [0u8; 5];
            block[..chunk.len()].copy_from_slice(chunk);
            let bits = block.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            let symbols = (chunk.len() * 8).div_ceil(5);
            for i in 0..symbols {
                out.push(BASE32[((bits >> (35 - 5 * i)) & 31) as usize] as char);
            }
        }
        out
    }

    /// A secret typed in base32 (case, spaces and padding ignored), as apps and people write it.
    pub fn from_base32(text: &str) -> Option<Self> {
        let mut bits: u64 = 0;
        let mut count = 0;
        let mut bytes = Vec::new();
        for c in text.chars().filter(|c| !matches!(c, ' ' | '=')) {
            let value = BASE32.iter().position(|b| *b as char == c.to_ascii_uppercase())?;
            bits = (bits << 5) | value as u64;
            count += 5;
            if count >= 8 {
                count -= 8;
                bytes.push((bits >> count) as u8);
            }
        }
        Some(Self(bytes))
    }

    /// The code of `step` with `digits` digits (RFC 4226's HOTP with the step as counter).
    pub fn code_at_step(&self, step: u64, digits: u32) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let mac = ring::hmac::sign(&key, &step.to_be_bytes());
        let mac = mac.as_ref();
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let truncated = u32::from_be_bytes([mac[offset], mac[offset + 1], mac[offset + 2], mac[offset + 3]])
            & 0x7fff_ffff;
        format!("{:0width$}", truncated % 10u32.pow(digits), width = digits as usize)
    }

    /// The code shown at `now`.
    pub fn code_at(&self, now: DateTime<Utc>) -> String {
        self.code_at_step(step_at(now), DIGITS)
    }

    /// The step whose code `code` is, among the current step and one either side, compared in
    /// constant time; `None` when it is none of them. The newest matching step is returned, so
    /// a caller refusing steps at or before the last one used refuses every replay.
    pub fn matching_step(&self, code: &str, now: DateTime<Utc>) -> Option<u64> {
        let code = normalize_code(code)?;
        let current = step_at(now);
        let mut found = None;
        for step in current.saturating_sub(DRIFT_STEPS)..=current + DRIFT_STEPS {
            if bool::from(self.code_at_step(step, DIGITS).as_bytes().ct_eq(code.as_bytes())) {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` URI an app reads from the QR code: issuer and account as its label.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let encode =
            |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            encode(issuer),
            encode(account),
            self.base32(),
            encode(issuer)
        )
    }
}

/// The `otpauth://` URI as a QR code, an SVG document (dark modules on white, a quiet zone).
pub fn qr_svg(uri: &str) -> String {
    qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default()
}

/// What a person's two-step verification is, as the user's record keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// The TOTP secret, sealed by the deployment's vault (never stored in the clear).
    pub sealed_secret: String,
    /// When a first code confirmed it; until then it is an enrollment in progress and does
    /// not guard anything.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The step of the last code accepted: codes of that step or earlier are refused (replay).
    #[serde(default)]
    pub last_step: u64,
    /// SHA-256 of each recovery code not used yet.
    #[serde(default)]
    pub recovery_hashes: Vec<String>,
}

impl SecondFactor {
    pub fn is_on(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn the_codes_are_rfc_6238s_sha1_test_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, code) in vectors {
            let step = step_at(Utc.timestamp_opt(time, 0).unwrap());
            assert_eq!(rfc_secret().code_at_step(step, 8), code, "at {time}");
        }
    }

    #[test]
    fn rfc_4226s_hotp_values_come_out_with_six_digits() {
        let expected = ["755224", "287082", "359152", "969429", "338314"];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(rfc_secret().code_at_step(counter as u64, 6), *code);
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_names_its_step() {
        let secret = rfc_secret();
        let now = Utc.timestamp_opt(1_111_111_111, 0).unwrap();
        let step = step_at(now);
        let before = secret.code_at_step(step - 1, DIGITS);
        let after = secret.code_at_step(step + 1, DIGITS);
        assert_eq!(secret.matching_step(&secret.code_at(now), now), Some(step));
        assert_eq!(secret.matching_step(&before, now), Some(step - 1));
        assert_eq!(secret.matching_step(&after, now), Some(step + 1));
        assert_eq!(secret.matching_step(&secret.code_at_step(step - 2, DIGITS), now), None);
        assert_eq!(secret.matching_step(&secret.code_at_step(step + 2, DIGITS), now), None);
    }

    #[test]
    fn a_code_is_read_with_spaces_or_a_hyphen_and_nothing_else() {
        let secret = rfc_secret();
        let now = Utc.timestamp_opt(59, 0).unwrap();
        let code = secret.code_at(now);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        let hyphened = format!("{}-{}", &code[..3], &code[3..]);
        assert!(secret.matching_step(&spaced, now).is_some());
        assert!(secret.matching_step(&hyphened, now).is_some());
        for bad in ["", "12345", "1234567", "abcdef", "12345\u{0661}"] {
            assert_eq!(secret.matching_step(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn the_secret_is_base32_and_the_uri_is_what_authenticator_apps_read() {
        assert_eq!(rfc_secret().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_bytes(b"f".to_vec()).base32(), "MY");
        assert_eq!(TotpSecret::from_bytes(b"foobar".to_vec()).base32(), "MZXW6YTBOI");
        assert_eq!(
            TotpSecret::from_base32("mzxw 6ytb oi=="),
            Some(TotpSecret::from_bytes(b"foobar".to_vec()))
        );
        assert_eq!(TotpSecret::from_base32(&rfc_secret().base32()), Some(rfc_secret()));
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
        assert_eq!(
            rfc_secret().otpauth_uri("Acme Market", "ann@example.com"),
            "otpauth://totp/Acme%20Market:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Acme%20Market&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&rfc_secret().otpauth_uri("Acme", "ann@example.com"));
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    }
}
