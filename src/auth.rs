//! Access tokens: created once and shown once, stored only as SHA-256 hashes
//! in the store's `tokens` tree, compared in constant time. Roles rise
//! reader < writer < admin; the actor of every event is its token's name.

use ragtrail_events::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read every view and the log.
    Reader,
    /// Also append events and seal boards.
    Writer,
    /// Also create and revoke tokens.
    Admin,
}

impl Role {
    /// The role's name, as tokens are listed and messages say it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Identity {
    pub name: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named {0:?} exists already; revoke it first or choose another name")]
    Exists(String),
    #[error("token name {0:?} is not allowed: use 1 to 100 letters, digits, spaces or . _ - @")]
    BadName(String),
    #[error("cannot generate a random token: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the token store is damaged: {0}")]
    Damaged(String),
    #[error("{0:?} is the last admin token; revoking it would lock every admin out. Create another admin token first (POST /api/v1/tokens with \"role\": \"admin\", or `ragtrail token create --role admin` while the server is stopped), then revoke this one")]
    LastAdmin(String),
}

impl From<sled::Error> for TokenError {
    fn from(e: sled::Error) -> Self {
        TokenError::Store(StoreError::Read(e))
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    role: Role,
    hash: String,
}

/// Every token's identity and hash, in memory.
type Known = std::sync::Arc<std::sync::RwLock<Vec<(Identity, [u8; 32])>>>;

/// The token registry of one store. Hashes are also kept in memory (the
/// store's directory is locked to this process), so checking a token reads no disk.
#[derive(Clone)]
pub struct Tokens {
    /// The tokens live in the store's `tokens` tree, taken afresh for each
    /// use (an erasure swaps sled; see `Store::write_tree`).
    store: Store,
    known: Known,
    revoking: std::sync::Arc<std::sync::Mutex<()>>,
}

/// The store's tree the tokens are kept in.
const TREE: &str = "tokens";

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=100).contains(&n)
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || " ._-@".contains(c))
}

impl Tokens {
    pub fn open(store: &Store) -> Result<Tokens, TokenError> {
        let t = Tokens {
            store: store.clone(),
            known: Default::default(),
            revoking: std::sync::Arc::new(std::sync::Mutex::new(())),
        };
        t.reload()?;
        Ok(t)
    }

    fn tree(&self) -> Result<sled::Tree, TokenError> {
        Ok(self.store.tree(TREE)?)
    }

    /// Re-reads every stored hash into memory.
    fn reload(&self) -> Result<(), TokenError> {
        let mut all = Vec::new();
        for kv in self.tree()?.iter() {
            let (k, v) = kv?;
            let s: Stored =
                serde_json::from_slice(&v).map_err(|e| TokenError::Damaged(e.to_string()))?;
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&s.hash, &mut hash)
                .map_err(|e| TokenError::Damaged(e.to_string()))?;
            all.push((
                Identity {
                    name: String::from_utf8_lossy(&k).into_owned(),
                    role: s.role,
                },
                hash,
            ));
        }
        match self.known.write() {
            Ok(mut k) => *k = all,
            Err(poisoned) => *poisoned.into_inner() = all,
        }
        Ok(())
    }

    /// Creates a token and returns it; this is the only time it is ever shown.
    pub fn create(&self, name: &str, role: Role) -> Result<String, TokenError> {
        if !valid_name(name) {
            return Err(TokenError::BadName(name.to_string()));
        }
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| TokenError::Random(e.to_string()))?;
        let token = format!("rt_{}", hex::encode(secret));
        let stored = serde_json::to_vec(&Stored {
            role,
            hash: hex::encode(hash(&token)),
        })
        .map_err(|e| TokenError::Damaged(e.to_string()))?;
        let fresh = self.store.write_tree(TREE, |tree| {
            Ok(tree.compare_and_swap(name.as_bytes(), None as Option<&[u8]>, Some(stored))?)
        })?;
        if fresh.is_err() {
            return Err(TokenError::Exists(name.to_string()));
        }
        self.store.sync()?;
        self.reload()?;
        Ok(token)
    }

    /// Revokes a token by name; false if there was none.
    /// Revokes a token; refuses to revoke the last admin token.
    pub fn revoke(&self, name: &str) -> Result<bool, TokenError> {
        // One revocation at a time, so two revokes cannot each leave the other as the last admin.
        let _one = self.revoking.lock().unwrap_or_else(|p| p.into_inner());
        let admins: Vec<String> = self
            .list()?
            .into_iter()
            .filter(|t| t.role == Role::Admin)
            .map(|t| t.name)
            .collect();
        if admins.len() == 1 && admins[0] == name {
            return Err(TokenError::LastAdmin(name.to_string()));
        }
        let gone = self
            .store
            .write_tree(TREE, |tree| Ok(tree.remove(name.as_bytes())?.is_some()))?;
        self.store.sync()?;
        self.reload()?;
        Ok(gone)
    }

    /// Every token's name and role (never the token).
    pub fn list(&self) -> Result<Vec<Identity>, TokenError> {
        self.tree()?
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let s: Stored =
                    serde_json::from_slice(&v).map_err(|e| TokenError::Damaged(e.to_string()))?;
                Ok(Identity {
                    name: String::from_utf8_lossy(&k).into_owned(),
                    role: s.role,
                })
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.tree().is_ok_and(|t| t.is_empty())
    }

    /// The identity a token belongs to. Every known hash is compared, in constant time.
    pub fn authenticate(&self, token: &str) -> Option<Identity> {
        let presented = hash(token);
        let known = match self.known.read() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut found = None;
        for (id, stored) in known.iter() {
            if bool::from(stored.ct_eq(&presented)) {
                found = Some(id.clone());
            }
        }
        found
    }
}
