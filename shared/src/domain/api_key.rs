//! An account's API key: the seller's own software calling the marketplace's APIs with some of
//! the account's permissions, in place of an employee's password. The key belongs to the account,
//! not to whoever created it; only the SHA-256 of its secret is kept.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use super::ids::{AccountId, ApiKeyId, UserId};
use super::permission::PermissionSet;

/// How long a key lives unless its creator says otherwise, and at most.
pub const DEFAULT_KEY_DAYS: u32 = 90;
pub const MOST_KEY_DAYS: u32 = 365;
/// The longest a rotated key's old secret keeps working.
pub const MOST_GRACE_HOURS: u32 = 24;
/// How long a key is kept after it ended (was revoked or expired), for its history.
pub const KEPT_AFTER_END_DAYS: i64 = 90;

/// A network a key may be used from: an address and how many leading bits must match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a network such as 203.0.113.0/24 or 2001:db8::/32")]
pub struct MalformedNetwork(pub String);

impl Network {
    /// `203.0.113.0/24`, `2001:db8::/32`, or a bare address (the whole of it). Host bits must be
    /// zero, so a network is written one way.
    pub fn parse(raw: &str) -> Result<Self, MalformedNetwork> {
        let malformed = || MalformedNetwork(raw.to_owned());
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address: IpAddr = address.parse().map_err(|_| malformed())?;
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= width).ok_or_else(malformed)?
            }
            Some(_) => return Err(malformed()),
            None => width,
        };
        // An IPv4 client is judged as IPv4 (`contains`): a network of IPv4 addresses mapped into
        // IPv6 is that IPv4 network.
        let (address, prefix) = match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if prefix >= 96 => (IpAddr::V4(v4), prefix - 96),
                Some(_) => return Err(malformed()),
                None => (address, prefix),
            },
            v4 => (v4, prefix),
        };
        let network = Self { address, prefix };
        if network.masked(address) != address {
            return Err(malformed());
        }
        Ok(network)
    }

    /// Whether `ip` is in the network. An IPv4 address mapped into IPv6 counts as itself.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_ipv4() == self.address.is_ipv4() && self.masked(ip) == self.address
    }

    fn masked(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        }
    }
}

impl TryFrom<String> for Network {
    type Error = MalformedNetwork;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Network> for String {
    fn from(network: Network) -> Self {
        format!("{}/{}", network.address, network.prefix)
    }
}

/// A rotated key's old secret, working until `until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredSecret {
    pub hash: String,
    pub until: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyStatus {
    Active,
    Expired,
    Revoked,
}

/// One API key of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    /// What the key may do: a subset of what its creator held when they made it.
    pub permissions: PermissionSet,
    /// Where it may be used from; empty: anywhere.
    pub networks: Vec<Network>,
    /// Shown in lists to tell keys apart: the secret's first characters.
    pub hint: String,
    pub secret_hash: String,
    pub retired: Option<RetiredSecret>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Written apart from the rest, at most once a minute, and never versioned.
    #[serde(skip)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Raised by every change, so writes can require the state they read.
    pub version: u32,
}

/// Why a key does not let a request in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("not this key's secret")]
    WrongSecret,
    #[error("the key was revoked")]
    Revoked,
    #[error("the key has expired")]
    Expired,
    #[error("the request comes from outside the key's networks")]
    OutsideNetworks,
    #[error("the key is no longer active")]
    NotActive,
}

impl ApiKey {
    /// When the key stops working for good, whatever happens to it until then.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.revoked_at.map_or(self.expires_at, |revoked| revoked.min(self.expires_at))
    }

    /// When a store may forget the key.
    pub fn forgotten_at(&self) -> DateTime<Utc> {
        self.ends_at() + Duration::days(KEPT_AFTER_END_DAYS)
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> ApiKeyStatus {
        if self.revoked_at.is_some() {
            ApiKeyStatus::Revoked
        } else if now >= self.expires_at {
            ApiKeyStatus::Expired
        } else {
            ApiKeyStatus::Active
        }
    }

    /// Whether the secret whose hash is `secret_hash` is this key's at `now`: its current one,
    /// or the one before a rotation, within its grace.
    pub fn knows(&self, secret_hash: &str, now: DateTime<Utc>) -> bool {
        let same = |a: &str, b: &str| bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()));
        same(secret_hash, &self.secret_hash)
            || self.retired.as_ref().is_some_and(|r| same(secret_hash, &r.hash) && now < r.until)
    }

    /// Whether a request presenting the secret whose hash is `secret_hash`, from `client` (when
    /// known), may use the key at `now`. A key limited to networks refuses an unknown client.
    pub fn admits(
        &self,
        secret_hash: &str,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), KeyRefusal> {
        if !self.knows(secret_hash, now) {
            return Err(KeyRefusal::WrongSecret);
        }
        match self.status_at(now) {
            ApiKeyStatus::Revoked => return Err(KeyRefusal::Revoked),
            ApiKeyStatus::Expired => return Err(KeyRefusal::Expired),
            ApiKeyStatus::Active => {}
        }
        let inside =
            self.networks.is_empty() || client.is_some_and(|ip| self.networks.iter().any(|n| n.contains(ip)));
        if inside { Ok(()) } else { Err(KeyRefusal::OutsideNetworks) }
    }

    /// The key with a new secret; the old one keeps working for `grace` (at most
    /// `MOST_GRACE_HOURS`; none: it stops at once). Only an active key rotates.
    pub fn rotated(
        self,
        secret_hash: String,
        hint: String,
        grace: Duration,
        now: DateTime<Utc>,
    ) -> Result<Self, KeyRefusal> {
        if self.status_at(now) != ApiKeyStatus::Active {
            return Err(KeyRefusal::NotActive);
        }
        let grace = grace.clamp(Duration::zero(), Duration::hours(MOST_GRACE_HOURS.into()));
        let retired = (grace > Duration::zero())
            .then(|| RetiredSecret { hash: self.secret_hash.clone(), until: now + grace });
        Ok(Self { secret_hash, hint, retired, version: self.version + 1, ..self })
    }

    /// The key revoked at `now`: no secret of it works any more. `None` when it already was
    /// (revoking is safe to retry).
    pub fn revoked(self, now: DateTime<Utc>) -> Option<Self> {
        self.revoked_at.is_none().then(|| Self {
            revoked_at: Some(now),
            retired: None,
            version: self.version + 1,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::at;

    fn key() -> ApiKey {
        ApiKey {
            id: ApiKeyId::generate(),
            account_id: AccountId::generate(),
            name: "repricer".into(),
            permissions: PermissionSet::default(),
            networks: Vec::new(),
            hint: "tgk_abcd".into(),
            secret_hash: "current".into(),
            retired: None,
            created_by: UserId::generate(),
            created_at: at(0),
            expires_at: at(100),
            revoked_at: None,
            last_used_at: None,
            version: 1,
        }
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[test]
    fn networks_are_written_one_way_and_contain_what_they_should() {
        let office = Network::parse("203.0.113.0/24").unwrap();
        assert!(office.contains("203.0.113.77".parse().unwrap()));
        assert!(office.contains("::ffff:203.0.113.77".parse().unwrap()));
        assert!(!office.contains("203.0.114.1".parse().unwrap()));
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(
            v6.contains("2001:db8:1::9".parse().unwrap()) && !v6.contains("2001:db9::1".parse().unwrap())
        );
        assert_eq!(String::from(Network::parse("198.51.100.7").unwrap()), "198.51.100.7/32");
        assert!(Network::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert_eq!(String::from(Network::parse("::ffff:203.0.113.0/120").unwrap()), "203.0.113.0/24");
        for bad in
            ["203.0.113.1/24", "203.0.113.0/33", "203.0.113.0/", "10.0.0.0/+8", "nope", "", "2001:db8::/129"]
        {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_admits_its_secret_while_active_and_from_its_networks() {
        let key = key();
        assert_eq!(key.admits("current", None, at(10)), Ok(()));
        assert_eq!(key.admits("other", None, at(10)), Err(KeyRefusal::WrongSecret));
        assert_eq!(key.admits("current", None, at(100)), Err(KeyRefusal::Expired));
        let limited = ApiKey { networks: vec![Network::parse("203.0.113.0/24").unwrap()], ..key.clone() };
        assert_eq!(limited.admits("current", ip("203.0.113.5"), at(10)), Ok(()));
        assert_eq!(limited.admits("current", ip("198.51.100.5"), at(10)), Err(KeyRefusal::OutsideNetworks));
        assert_eq!(limited.admits("current", None, at(10)), Err(KeyRefusal::OutsideNetworks));
        let revoked = key.revoked(at(20)).unwrap();
        assert_eq!(revoked.version, 2);
        assert_eq!(revoked.admits("current", None, at(21)), Err(KeyRefusal::Revoked));
        assert_eq!(revoked.revoked(at(22)), None, "revoking again changes nothing");
    }

    #[test]
    fn a_rotated_keys_old_secret_works_through_its_grace_and_no_longer() {
        let rotated = key().rotated("next".into(), "tgk_efgh".into(), Duration::seconds(30), at(10)).unwrap();
        assert_eq!(rotated.version, 2);
        assert_eq!(rotated.admits("next", None, at(11)), Ok(()));
        assert_eq!(rotated.admits("current", None, at(39)), Ok(()));
        assert_eq!(rotated.admits("current", None, at(40)), Err(KeyRefusal::WrongSecret));
        let at_once = key().rotated("next".into(), "tgk_efgh".into(), Duration::zero(), at(10)).unwrap();
        assert_eq!(at_once.admits("current", None, at(10)), Err(KeyRefusal::WrongSecret));
        let capped = key().rotated("next".into(), "h".into(), Duration::days(3), at(10)).unwrap();
        assert_eq!(capped.retired.unwrap().until, at(10) + Duration::hours(24));
        assert_eq!(
            key().revoked(at(5)).unwrap().rotated("n".into(), "h".into(), Duration::zero(), at(6)),
            Err(KeyRefusal::NotActive)
        );
    }
}
