//! The run store: the history of one search run, written as the search goes, so that a killed run can be
//! resumed and a finished one reported.
//!
//! A run is one row of settings (JSON), seed, seed program, nasc version and the driver's saved state (its
//! random generator and a free JSON value), plus one row per individual: the program, where it came from
//! (parent, mutation, property target, synthesis outcome), its status (`pending` → `running` → `done` |
//! `failed`) and what its evaluation measured. Every change of state is one transaction; a driver that saves
//! its own state passes it with the change that caused it ([`Store::insert_pending`], [`Store::record`]), so
//! the store never holds a result without the driver state that followed it, or the reverse.
//!
//! [`Store`] is the interface the drivers use; [`SqliteStore`] keeps a run in one SQLite file (WAL mode;
//! see docs/search.md, "Run store", for the schema and the resume semantics). A server-backed store
//! implements the same trait. [`open`] picks the backend from a location (`sqlite:PATH` or a plain path).
//! Uses no other stage: the evaluation result is the store's own [`Evaluation`], which `exec`'s
//! `JobResult` carries as it is (with the job's id), so executors record results without conversion.

mod sqlite;

pub use sqlite::SqliteStore;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The schema version this build writes and reads; a store with a newer one is refused.
pub const SCHEMA_VERSION: i64 = 1;

/// What the run is: given once, when the run starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// The driver's kind (`evolve`).
    pub driver: String,
    /// The driver's settings (its command line, as JSON).
    pub settings: serde_json::Value,
    /// The run's seed.
    pub seed: u64,
    /// The seed program, as NASL text.
    pub seed_program: String,
}

/// A run as stored: what it was started with, by which nasc, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub driver: String,
    pub settings: serde_json::Value,
    pub seed: u64,
    pub seed_program: String,
    /// The nasc version that created the run (`CARGO_PKG_VERSION`).
    pub nasc_version: String,
    /// Unix time in seconds.
    pub created_at: f64,
}

/// What the driver saves to continue exactly where it was: its random generator's state (opaque bytes,
/// encoded by the driver) and any other state (population, counters) as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverState {
    pub rng: Vec<u8>,
    pub state: serde_json::Value,
}

/// Where an individual is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Made (checked) and waiting for an evaluation.
    Pending,
    /// Handed to an executor.
    Running,
    /// Evaluated; its measurements are final.
    Done,
    /// Its evaluation failed; the reason is final.
    Failed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Running,
        Status::Done,
        Status::Failed,
    ];

    /// The name stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// `done` or `failed`: the row never changes again.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Done | Status::Failed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new individual, inserted as `pending`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewIndividual {
    /// The individual it was made from (None for the seed).
    pub parent_id: Option<i64>,
    /// The mutation that made it (`duplicate`, `delete`, `property`, …; None for the seed).
    pub mutation: Option<String>,
    /// The whole program, as NASL.
    pub nasl: String,
    /// What makes two individuals the same (canonical text or a graph hash); unique in a run.
    pub fingerprint: String,
    /// The mutated properties the replacement was synthesized for (property-guided mutations).
    pub target_props: Option<serde_json::Value>,
    /// What synthesis answered (property-guided mutations).
    pub synth_outcome: Option<serde_json::Value>,
}

/// How an evaluation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Done,
    Failed,
}

/// What an evaluation measured (`exec::JobResult` carries one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub outcome: Outcome,
    pub params: Option<i64>,
    pub macs: Option<i64>,
    pub val_accuracy: Option<f64>,
    pub val_loss: Option<f64>,
    pub train_seconds: f64,
    pub error: Option<String>,
}

/// An individual as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Individual {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub mutation: Option<String>,
    pub status: Status,
    pub nasl: String,
    pub fingerprint: String,
    pub params: Option<i64>,
    pub macs: Option<i64>,
    pub val_accuracy: Option<f64>,
    pub val_loss: Option<f64>,
    pub train_seconds: Option<f64>,
    pub error: Option<String>,
    pub target_props: Option<serde_json::Value>,
    pub synth_outcome: Option<serde_json::Value>,
    /// Unix times in seconds.
    pub created_at: f64,
    pub started_at: Option<f64>,
    pub finished_at: Option<f64>,
    /// How many times it was handed to an executor (more than 1 after a resume re-ran it).
    pub attempts: i64,
}

/// How many individuals are in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.pending + self.running + self.done + self.failed
    }

    /// `done` + `failed`: the evaluations that count as trials.
    pub fn finished(&self) -> u64 {
        self.done + self.failed
    }
}

/// The history of one search run. Every method that changes something is one transaction: it happens
/// completely or not at all, whenever the process dies.
pub trait Store {
    /// Where the store is, for messages (`run.db`, a server URL).
    fn location(&self) -> &str;

    /// Starts the run; a store holds one run ([`StoreError::RunExists`] otherwise).
    fn create_run(&mut self, run: &NewRun) -> Result<Run, StoreError>;

    /// The run ([`StoreError::NoRun`] when none was started).
    fn load_run(&self) -> Result<Run, StoreError>;

    /// Inserts a `pending` individual and returns its id; with `state`, saves the driver's state in the same
    /// transaction. A fingerprint already in the run is [`StoreError::DuplicateFingerprint`] (the driver
    /// draws again) and changes nothing.
    fn insert_pending(
        &mut self,
        individual: &NewIndividual,
        state: Option<&DriverState>,
    ) -> Result<i64, StoreError>;

    /// `pending` → `running`: counts an attempt and sets `started_at`.
    fn mark_running(&mut self, id: i64) -> Result<(), StoreError>;

    /// `running` → `done` | `failed` with what the evaluation measured; with `state`, saves the driver's
    /// state in the same transaction. A finished row is never changed ([`StoreError::Transition`]).
    fn record(
        &mut self,
        id: i64,
        evaluation: &Evaluation,
        state: Option<&DriverState>,
    ) -> Result<(), StoreError>;

    /// Saves the driver's state alone.
    fn save_state(&mut self, state: &DriverState) -> Result<(), StoreError>;

    /// The driver's last saved state (None before the first save).
    fn load_state(&self) -> Result<Option<DriverState>, StoreError>;

    /// For a resume: every `running` individual (its evaluation died with the process) back to `pending`;
    /// returns their ids, in order.
    fn reset_running(&mut self) -> Result<Vec<i64>, StoreError>;

    /// One individual ([`StoreError::NoIndividual`] when there is none with that id).
    fn individual(&self, id: i64) -> Result<Individual, StoreError>;

    /// The individuals in `status` (all with None), in id order.
    fn individuals(&self, status: Option<Status>) -> Result<Vec<Individual>, StoreError>;

    /// How many individuals are in each status.
    fn counts(&self) -> Result<Counts, StoreError>;
}

/// Opens (or creates) the store at `location`: `sqlite:PATH` or a plain path is a SQLite file.
pub fn open(location: &str) -> Result<Box<dyn Store + Send>, StoreError> {
    if location.starts_with("sqlite:") {
        return Ok(Box::new(SqliteStore::open(location)?));
    }
    if let Some((scheme, _)) = location.split_once("://") {
        return Err(StoreError::Unsupported {
            location: location.to_string(),
            reason: format!(
                "`{scheme}://` stores are not supported yet; give a file path or `sqlite:PATH`"
            ),
        });
    }
    Ok(Box::new(SqliteStore::open(location)?))
}

/// Why the store could not do what was asked. Every message names the store.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreError {
    /// The file or its folder could not be opened or created.
    Open { location: String, reason: String },
    /// The file is not a nasc run store (another SQLite database, or not SQLite at all).
    NotAStore { location: String, reason: String },
    /// The store was written by a newer nasc.
    NewerSchema {
        location: String,
        found: i64,
        supported: i64,
    },
    /// A location this build cannot open (`postgres://…`).
    Unsupported { location: String, reason: String },
    /// `create_run` on a store that already holds a run.
    RunExists { location: String },
    /// `load_run` on a store where no run was started.
    NoRun { location: String },
    /// An individual with this fingerprint is already in the run.
    DuplicateFingerprint {
        location: String,
        fingerprint: String,
        existing: i64,
    },
    /// No individual with this id.
    NoIndividual { location: String, id: i64 },
    /// A change of status the life of an individual does not allow (a finished row never changes).
    Transition {
        location: String,
        id: i64,
        from: Status,
        to: Status,
    },
    /// The caller's data is not storable (a `done` evaluation without an accuracy, …).
    Invalid { location: String, reason: String },
    /// The database failed (I/O, lock timeout, corruption).
    Database {
        location: String,
        action: String,
        reason: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { location, reason } => {
                write!(f, "cannot open the run store {location}: {reason}")
            }
            StoreError::NotAStore { location, reason } => {
                write!(f, "{location} is not a nasc run store: {reason}")
            }
            StoreError::NewerSchema {
                location,
                found,
                supported,
            } => write!(
                f,
                "{location} has run-store schema version {found}, but this nasc ({}) reads versions up to \
                 {supported}; use a newer nasc",
                env!("CARGO_PKG_VERSION")
            ),
            StoreError::Unsupported { location, reason } => {
                write!(f, "cannot open the run store {location}: {reason}")
            }
            StoreError::RunExists { location } => write!(
                f,
                "{location} already holds a run (continue it with `nasc search resume {location}`, or give \
                 another file)"
            ),
            StoreError::NoRun { location } => {
                write!(f, "{location} holds no run (the store was created but no run was started)")
            }
            StoreError::DuplicateFingerprint {
                location,
                fingerprint,
                existing,
            } => write!(
                f,
                "{location}: individual {existing} already has the fingerprint {fingerprint}"
            ),
            StoreError::NoIndividual { location, id } => {
                write!(f, "{location} has no individual {id}")
            }
            StoreError::Transition {
                location,
                id,
                from,
                to,
            } => write!(
                f,
                "{location}: individual {id} is {from} and cannot become {to}"
            ),
            StoreError::Invalid { location, reason } => write!(f, "{location}: {reason}"),
            StoreError::Database {
                location,
                action,
                reason,
            } => write!(f, "run store {location}: {action} failed: {reason}"),
        }
    }
}

impl std::error::Error for StoreError {}
