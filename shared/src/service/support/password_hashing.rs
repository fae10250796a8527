//! Password hashing with argon2id (OWASP parameters), off the async threads: at most one hash
//! per core at a time, each in memory kept from the hashes before it.
//!
//! A hash or a verification fills 19 MiB. Left to `spawn_blocking` (a pool of up to 512
//! threads) and to the argon2 crate (which allocates those 19 MiB on every call), the dev server
//! peaked at 400 to 500 MiB under 25 concurrent activations, and kept about 19 MiB more resident
//! after most activations, for good (1.5 GiB after 100): once glibc has freed one such block it
//! serves the next from its heap, small allocations split the freed block, and the next hash
//! grows the heap again. Here a hash waits for a free core (more at once would finish no sooner)
//! and hashes in the memory of one before it: at most one block per core is ever allocated, and
//! it is kept (README, "Size, speed and cost").

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::Password;

use super::failure::InternalError;

const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;

/// argon2id with m = 19456 KiB, t = 2, p = 1.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    /// One permit per core, held by each hash or verification until its blocking work ends;
    /// the cores are counted at the first hash, not at a cold start that may never hash.
    cores: Arc<OnceLock<Arc<Semaphore>>>,
    /// The memory of hashes that ended, for the next ones: at most one per core.
    spare: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// A hash of nothing anyone knows, verified when there is no real hash so that an unknown
/// email takes as long as a known one. Made on first use, in that verification's turn.
static DECOY: OnceLock<String> = OnceLock::new();

impl Default for PasswordHasher {
    fn default() -> Self {
        let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
        Self {
            argon: Arc::new(Argon2::new(ALGORITHM, VERSION, params)),
            cores: Default::default(),
            spare: Default::default(),
        }
    }
}

/// A core's turn and the memory to hash in. The permit moves into the blocking task, so a
/// request that gives up waiting (its client gone) frees neither while its hash still runs.
struct Turn {
    memory: Vec<Block>,
    spare: Arc<Mutex<Vec<Vec<Block>>>>,
    _core: OwnedSemaphorePermit,
}

impl Turn {
    /// The memory, allocated by the first hash that finds none spare.
    fn memory(&mut self, blocks: usize) -> &mut [Block] {
        if self.memory.len() < blocks {
            self.memory = vec![Block::default(); blocks];
        }
        &mut self.memory
    }
}

impl Drop for Turn {
    /// Hands the memory on before the permit goes (fields drop after this), so the next turn
    /// finds it.
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        if !memory.is_empty() {
            self.spare.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
        }
    }
}

impl PasswordHasher {
    fn cores(&self) -> Arc<Semaphore> {
        let count = || std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        self.cores.get_or_init(|| Arc::new(Semaphore::new(count()))).clone()
    }

    async fn turn(&self) -> Turn {
        let core = self.cores().acquire_owned().await.expect("the semaphore is never closed");
        let memory = self.spare.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        Turn { memory, spare: self.spare.clone(), _core: core }
    }

    /// A PHC string for a password that passed its policy.
    pub async fn hash(&self, password: &Password) -> Result<String, InternalError> {
        let argon = self.argon.clone();
        let raw = password.expose().to_owned();
        let mut turn = self.turn().await;
        tokio::task::spawn_blocking(move || {
            let mut salt = [0u8; 16];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
                .map_err(|_| InternalError::new("random salt", "no randomness"))?;
            let memory = turn.memory(argon.params().block_count());
            hash_in(&argon, memory, raw.as_bytes(), &salt)
                .map_err(|e| InternalError::new("password hash", e.to_string()))
        })
        .await
        .map_err(|e| InternalError::new("password hash task", e))?
    }

    /// Whether `raw` matches `phc`; with no hash, burns the same time and answers false.
    pub async fn verify(&self, raw: &str, phc: Option<&str>) -> bool {
        let argon = self.argon.clone();
        let known = phc.is_some();
        let phc = phc.map(str::to_owned);
        let raw = raw
            .as_bytes()
            .iter()
            .take(crate::domain::password::MAX_PASSWORD_BYTES)
            .copied()
            .collect::<Vec<_>>();
        let mut turn = self.turn().await;
        tokio::task::spawn_blocking(move || {
            let memory = turn.memory(argon.params().block_count());
            let phc = match &phc {
                Some(phc) => phc,
                None => DECOY.get_or_init(|| {
                    hash_in(&argon, memory, b"decoy password that nobody has", b"decoydecoydecoy")
                        .expect("the decoy hashes")
                }),
            };
            matches(memory, &raw, phc).unwrap_or(false)
        })
        .await
        .unwrap_or(false)
            && known
    }
}

/// The PHC string of `raw` with `salt`, hashed in `memory`: what the argon2 crate's own
/// `hash_password` writes, without the allocation it makes for every hash.
fn hash_in(argon: &Argon2, memory: &mut [Block], raw: &[u8], salt: &[u8]) -> password_hash::Result<String> {
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon.hash_password_into_with_memory(raw, salt, &mut output, memory)?;
    let salt = SaltString::encode_b64(salt)?;
    let hash = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output)?),
    };
    Ok(hash.to_string())
}

/// Whether `raw` hashes to `phc` under the parameters `phc` names, in `memory`, compared in
/// constant time: what the argon2 crate's own `verify_password` does. A hash that names more
/// memory than a turn has is an error.
fn matches(memory: &mut [Block], raw: &[u8], phc: &str) -> password_hash::Result<bool> {
    let hash = PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return Ok(false) };
    let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let argon = Argon2::new(Algorithm::try_from(hash.algorithm)?, version, Params::try_from(&hash)?);
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let computed = Output::init_with(expected.len(), |out| {
        Ok(argon.hash_password_into_with_memory(raw, salt, out, memory)?)
    })?;
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PasswordPolicy;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    fn password(raw: &str) -> Password {
        let policy = PasswordPolicy {
            min_length: 6,
            max_length: 64,
            charset: Default::default(),
            refuse_common: false,
        };
        Password::parse("password", raw, &policy).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::default();
        let phc = hasher.hash(&password("tulip-orbit-canvas")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("tulip-orbit-canvas", Some(&phc)).await);
        assert!(!hasher.verify("tulip-orbit-canvaS", Some(&phc)).await);
        assert!(!hasher.verify("decoy password that nobody has", None).await);
    }

    #[tokio::test]
    async fn hashes_are_the_argon2_crates_own_both_ways() {
        // Given a hash written by the argon2 crate itself (as every stored hash was), and one of ours
        let hasher = PasswordHasher::default();
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        let theirs = hasher.argon.hash_password(b"tulip-orbit-canvas", &salt).unwrap().to_string();
        let ours = hasher.hash(&password("tulip-orbit-canvas")).await.unwrap();
        // When each is checked by the other side
        // Then both verify, and ours is the same string the crate writes for the same salt
        assert!(hasher.verify("tulip-orbit-canvas", Some(&theirs)).await);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher.argon.verify_password(b"tulip-orbit-canvas", &parsed).is_ok());
        let mut memory = vec![Block::default(); hasher.argon.params().block_count()];
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).unwrap();
        assert_eq!(hash_in(&hasher.argon, &mut memory, b"tulip-orbit-canvas", salt_bytes).unwrap(), theirs);
    }

    #[tokio::test]
    async fn a_verification_waits_its_turn_while_every_core_is_hashing() {
        // Given every core's turn taken
        let hasher = PasswordHasher::default();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let taken = hasher.cores().acquire_many_owned(cores as u32).await.unwrap();
        // When one more verification asks for a turn
        let verify = hasher.verify("tulip-orbit-canvas", None);
        tokio::pin!(verify);
        // Then it waits until a core is free, and then runs
        assert!(futures::poll!(verify.as_mut()).is_pending());
        drop(taken);
        assert!(!verify.await);
    }

    #[tokio::test]
    async fn hashes_one_after_another_reuse_one_memory() {
        // Given a hash done
        let hasher = PasswordHasher::default();
        hasher.hash(&password("tulip-orbit-canvas")).await.unwrap();
        // When more follow, one at a time
        for _ in 0..3 {
            assert!(!hasher.verify("tulip-orbit-canvas", None).await);
        }
        // Then they all hashed in the first one's memory
        assert_eq!(hasher.spare.lock().unwrap().len(), 1);
    }
}
