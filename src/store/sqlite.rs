//! The run store in one SQLite file (rusqlite, bundled SQLite).
//!
//! Settings per connection: WAL journal (a reader — `nasc search report` on a running search — never blocks
//! the writer, and a commit is one append to the log); `synchronous=FULL`, so a commit is on disk when it
//! returns, power loss included (NORMAL would already survive `kill -9`, but could lose the last commits
//! on power loss; a lost commit is a re-trained child, minutes, while an fsync per commit costs
//! milliseconds, and a search commits a few times per child); a 10 s busy timeout; foreign keys on. Every
//! write is one `BEGIN IMMEDIATE` transaction: it takes the write lock before reading, so two writers wait
//! for each other (up to the busy timeout) instead of failing on a lock upgrade. The schema is in
//! [`SCHEMA`] and docs/search.md; triggers and checks keep a finished row unchangeable and a `done` row
//! complete even against other SQL clients.

use super::{
    Counts, DriverState, Evaluation, Individual, NewIndividual, NewRun, Outcome, Run, Status,
    Store, StoreError, SCHEMA_VERSION,
};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `meta` row that marks a file as a nasc run store.
const APPLICATION: &str = "nasc-run-store";

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema version 1, created in one transaction in an empty database.
const SCHEMA: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE run (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    driver         TEXT NOT NULL,
    settings       TEXT NOT NULL CHECK (json_valid(settings)),
    seed           TEXT NOT NULL,
    seed_program   TEXT NOT NULL,
    nasc_version   TEXT NOT NULL,
    created_at     REAL NOT NULL,
    rng            BLOB,
    state          TEXT CHECK (state IS NULL OR json_valid(state)),
    state_saved_at REAL,
    CHECK ((rng IS NULL) = (state IS NULL))
) STRICT;

CREATE TABLE individuals (
    id            INTEGER PRIMARY KEY,
    parent_id     INTEGER REFERENCES individuals (id),
    mutation      TEXT,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'failed')),
    nasl          TEXT NOT NULL,
    fingerprint   TEXT NOT NULL UNIQUE,
    params        INTEGER,
    macs          INTEGER,
    val_accuracy  REAL,
    val_loss      REAL,
    train_seconds REAL,
    error         TEXT,
    target_props  TEXT CHECK (target_props IS NULL OR json_valid(target_props)),
    synth_outcome TEXT CHECK (synth_outcome IS NULL OR json_valid(synth_outcome)),
    created_at    REAL NOT NULL,
    started_at    REAL,
    finished_at   REAL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    CHECK (status <> 'running' OR started_at IS NOT NULL),
    CHECK (status <> 'done' OR (params IS NOT NULL AND macs IS NOT NULL AND val_accuracy IS NOT NULL
                                AND val_loss IS NOT NULL AND train_seconds IS NOT NULL
                                AND finished_at IS NOT NULL AND error IS NULL)),
    CHECK (status <> 'failed' OR (error IS NOT NULL AND finished_at IS NOT NULL))
) STRICT;

CREATE INDEX individuals_status ON individuals (status);

CREATE TRIGGER individuals_finished_never_change BEFORE UPDATE ON individuals
WHEN OLD.status IN ('done', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'a finished individual never changes');
END;

CREATE TRIGGER individuals_finished_never_deleted BEFORE DELETE ON individuals
WHEN OLD.status IN ('done', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'a finished individual is never deleted');
END;
"#;

const INDIVIDUAL_COLUMNS: &str = "id, parent_id, mutation, status, nasl, fingerprint, params, macs, \
     val_accuracy, val_loss, train_seconds, error, target_props, synth_outcome, created_at, started_at, \
     finished_at, attempts";

/// A run store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    location: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// `sqlite:PATH` → `PATH`; a plain path as it is.
fn strip_scheme(path: &Path) -> PathBuf {
    match path.to_str().and_then(|s| s.strip_prefix("sqlite:")) {
        Some(rest) => PathBuf::from(rest),
        None => path.to_path_buf(),
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

impl SqliteStore {
    /// Opens the store at `path` (or `sqlite:PATH`), creating the file and the schema when the file does
    /// not exist or is an empty database. A file that is not a nasc run store is refused without being
    /// changed.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = strip_scheme(path.as_ref());
        let location = path.display().to_string();
        if path.is_dir() {
            return Err(StoreError::Open {
                location,
                reason: "it is a folder".into(),
            });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(StoreError::Open {
                    reason: format!("the folder {} does not exist", dir.display()),
                    location,
                });
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Self::open_with(path, location, flags)
    }

    /// Opens an existing store (for `resume` and `report`): a missing file is an error, not a new store.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = strip_scheme(path.as_ref());
        let location = path.display().to_string();
        if !path.is_file() {
            return Err(StoreError::Open {
                reason: if path.exists() {
                    "it is not a file".into()
                } else {
                    "no such file".into()
                },
                location,
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = Self::open_with(path, location, flags)?;
        Ok(store)
    }

    fn open_with(
        path: PathBuf,
        location: String,
        flags: OpenFlags,
    ) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| StoreError::Open {
            location: location.clone(),
            reason: e.to_string(),
        })?;
        let mut store = SqliteStore {
            conn,
            path,
            location,
        };
        store.init()?;
        Ok(store)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's `integrity_check` and `foreign_key_check`: Ok when both find nothing.
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let err = self.db("integrity check");
        let rows: Vec<String> =
            all(&self.conn, "PRAGMA integrity_check", [], |r| r.get(0)).map_err(&err)?;
        if rows != ["ok"] {
            return Err(StoreError::Database {
                location: self.location.clone(),
                action: "integrity check".into(),
                reason: rows.join("; "),
            });
        }
        let bad = all(&self.conn, "PRAGMA foreign_key_check", [], |r| {
            r.get::<_, String>(0)
        })
        .map_err(&err)?
        .len();
        if bad > 0 {
            return Err(StoreError::Database {
                location: self.location.clone(),
                action: "integrity check".into(),
                reason: format!("{bad} rows name a missing parent"),
            });
        }
        Ok(())
    }

    /// Maps a SQLite error during `action` to a [`StoreError`] naming the file.
    fn db(&self, action: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        let action = action.to_string();
        move |e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotAStore {
                location: self.location.clone(),
                reason: "it is not an SQLite database".into(),
            },
            _ => StoreError::Database {
                location: self.location.clone(),
                action: action.clone(),
                reason: e.to_string(),
            },
        }
    }

    fn not_a_store(&self, reason: String) -> StoreError {
        StoreError::NotAStore {
            location: self.location.clone(),
            reason,
        }
    }

    /// Checks what the file holds before changing anything, then sets the connection up and creates the
    /// schema in an empty database.
    fn init(&mut self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(self.db("setting the busy timeout"))?;
        // the first read: a file that is not SQLite fails here, before anything is written
        let tables = self.tables()?;
        if !tables.is_empty() {
            self.check_schema(&tables)?;
        }
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(self.db("switching to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database {
                location: self.location.clone(),
                action: "switching to WAL mode".into(),
                reason: format!("the journal mode stayed `{mode}`"),
            });
        }
        self.conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(self.db("setting up the connection"))?;
        if tables.is_empty() {
            self.create_schema()?;
        }
        Ok(())
    }

    fn tables(&self) -> Result<Vec<String>, StoreError> {
        all(
            &self.conn,
            "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
            [],
            |r| r.get(0),
        )
        .map_err(self.db("reading the schema"))
    }

    fn check_schema(&self, tables: &[String]) -> Result<(), StoreError> {
        if !tables.iter().any(|t| t == "meta") {
            let mut shown = tables
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if tables.len() > 5 {
                shown.push_str(", …");
            }
            return Err(self.not_a_store(format!(
                "it is an SQLite database without nasc's `meta` table (its tables: {shown})"
            )));
        }
        let meta = |key: &str| -> Result<Option<String>, StoreError> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
                .map_err(|e| self.not_a_store(format!("its `meta` table is unreadable ({e})")))
        };
        if meta("application")?.as_deref() != Some(APPLICATION) {
            return Err(self.not_a_store(format!(
                "its `meta` table does not say application = {APPLICATION}"
            )));
        }
        let version = meta("schema_version")?;
        let found = version
            .as_deref()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                self.not_a_store(format!(
                    "its schema_version is {}",
                    version.as_deref().unwrap_or("missing")
                ))
            })?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                location: self.location.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        // found < SCHEMA_VERSION: migrations go here once there is a version 2
        Ok(())
    }

    fn create_schema(&mut self) -> Result<(), StoreError> {
        let location = self.location.clone();
        let err = |e: rusqlite::Error| StoreError::Database {
            location: location.clone(),
            action: "creating the schema".into(),
            reason: e.to_string(),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        // another process may have created it since we looked
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table')",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if exists {
            drop(tx);
            let tables = self.tables()?;
            return self.check_schema(&tables);
        }
        tx.execute_batch(SCHEMA).map_err(err)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('application', ?1), ('schema_version', ?2)",
            params![APPLICATION, SCHEMA_VERSION.to_string()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f` returns Ok.
    fn write<T>(
        &mut self,
        action: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &Ctx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let ctx = Ctx {
            location: &self.location,
            action,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| ctx.db(e))?;
        let out = f(&tx, &ctx)?;
        tx.commit().map_err(|e| ctx.db(e))?;
        Ok(out)
    }
}

/// What a transaction's errors name.
struct Ctx<'a> {
    location: &'a str,
    action: &'a str,
}

impl Ctx<'_> {
    fn db(&self, e: rusqlite::Error) -> StoreError {
        StoreError::Database {
            location: self.location.to_string(),
            action: self.action.to_string(),
            reason: e.to_string(),
        }
    }

    fn invalid(&self, reason: String) -> StoreError {
        StoreError::Invalid {
            location: self.location.to_string(),
            reason,
        }
    }

    fn status_of(&self, conn: &Connection, id: i64) -> Result<Status, StoreError> {
        let s: Option<String> = conn
            .query_row("SELECT status FROM individuals WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.db(e))?;
        let s = s.ok_or_else(|| StoreError::NoIndividual {
            location: self.location.to_string(),
            id,
        })?;
        Status::parse(&s).ok_or_else(|| self.invalid(format!("individual {id} has status `{s}`")))
    }

    fn transition(&self, id: i64, from: Status, to: Status) -> StoreError {
        StoreError::Transition {
            location: self.location.to_string(),
            id,
            from,
            to,
        }
    }

    fn save_state(&self, conn: &Connection, state: &DriverState) -> Result<(), StoreError> {
        let n = conn
            .execute(
                "UPDATE run SET rng = ?1, state = ?2, state_saved_at = ?3 WHERE id = 1",
                params![state.rng, json_text(&state.state), now()],
            )
            .map_err(|e| self.db(e))?;
        if n == 0 {
            return Err(StoreError::NoRun {
                location: self.location.to_string(),
            });
        }
        Ok(())
    }
}

/// Every row of `sql`, mapped by `f`.
fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, f)?.collect();
    rows
}

fn parse_json(col: usize, s: Option<String>) -> rusqlite::Result<Option<serde_json::Value>> {
    s.map(|s| {
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

fn individual_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Individual> {
    let status: String = r.get(3)?;
    let status = Status::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("unknown status `{status}`").into(),
        )
    })?;
    Ok(Individual {
        id: r.get(0)?,
        parent_id: r.get(1)?,
        mutation: r.get(2)?,
        status,
        nasl: r.get(4)?,
        fingerprint: r.get(5)?,
        params: r.get(6)?,
        macs: r.get(7)?,
        val_accuracy: r.get(8)?,
        val_loss: r.get(9)?,
        train_seconds: r.get(10)?,
        error: r.get(11)?,
        target_props: parse_json(12, r.get(12)?)?,
        synth_outcome: parse_json(13, r.get(13)?)?,
        created_at: r.get(14)?,
        started_at: r.get(15)?,
        finished_at: r.get(16)?,
        attempts: r.get(17)?,
    })
}

/// `Some(x)` when finite; SQLite stores NaN as NULL, so a non-finite number is no number.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

impl Store for SqliteStore {
    fn location(&self) -> &str {
        &self.location
    }

    fn create_run(&mut self, run: &NewRun) -> Result<Run, StoreError> {
        let stored = Run {
            driver: run.driver.clone(),
            settings: run.settings.clone(),
            seed: run.seed,
            seed_program: run.seed_program.clone(),
            nasc_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: now(),
        };
        self.write("creating the run", |tx, ctx| {
            let exists: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM run)", [], |r| r.get(0))
                .map_err(|e| ctx.db(e))?;
            if exists {
                return Err(StoreError::RunExists {
                    location: ctx.location.to_string(),
                });
            }
            tx.execute(
                "INSERT INTO run (id, driver, settings, seed, seed_program, nasc_version, created_at) \
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    stored.driver,
                    json_text(&stored.settings),
                    stored.seed.to_string(),
                    stored.seed_program,
                    stored.nasc_version,
                    stored.created_at
                ],
            )
            .map_err(|e| ctx.db(e))?;
            Ok(())
        })?;
        Ok(stored)
    }

    fn load_run(&self) -> Result<Run, StoreError> {
        let err = self.db("reading the run");
        let row = self
            .conn
            .query_row(
                "SELECT driver, settings, seed, seed_program, nasc_version, created_at FROM run \
                 WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, f64>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(&err)?;
        let Some((driver, settings, seed, seed_program, nasc_version, created_at)) = row else {
            return Err(StoreError::NoRun {
                location: self.location.clone(),
            });
        };
        let invalid = |reason: String| StoreError::Invalid {
            location: self.location.clone(),
            reason,
        };
        Ok(Run {
            driver,
            settings: serde_json::from_str(&settings)
                .map_err(|e| invalid(format!("the run's settings are not JSON: {e}")))?,
            seed: seed
                .parse()
                .map_err(|_| invalid(format!("the run's seed `{seed}` is not a number")))?,
            seed_program,
            nasc_version,
            created_at,
        })
    }

    fn insert_pending(
        &mut self,
        ind: &NewIndividual,
        state: Option<&DriverState>,
    ) -> Result<i64, StoreError> {
        self.write("inserting an individual", |tx, ctx| {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM individuals WHERE fingerprint = ?1",
                    [&ind.fingerprint],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| ctx.db(e))?;
            if let Some(existing) = existing {
                return Err(StoreError::DuplicateFingerprint {
                    location: ctx.location.to_string(),
                    fingerprint: ind.fingerprint.clone(),
                    existing,
                });
            }
            if let Some(p) = ind.parent_id {
                let found: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM individuals WHERE id = ?1)",
                        [p],
                        |r| r.get(0),
                    )
                    .map_err(|e| ctx.db(e))?;
                if !found {
                    return Err(ctx.invalid(format!("the parent individual {p} does not exist")));
                }
            }
            tx.execute(
                "INSERT INTO individuals (parent_id, mutation, status, nasl, fingerprint, target_props, \
                 synth_outcome, created_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7)",
                params![
                    ind.parent_id,
                    ind.mutation,
                    ind.nasl,
                    ind.fingerprint,
                    ind.target_props.as_ref().map(json_text),
                    ind.synth_outcome.as_ref().map(json_text),
                    now()
                ],
            )
            .map_err(|e| ctx.db(e))?;
            let id = tx.last_insert_rowid();
            if let Some(s) = state {
                ctx.save_state(tx, s)?;
            }
            Ok(id)
        })
    }

    fn mark_running(&mut self, id: i64) -> Result<(), StoreError> {
        self.write("marking an individual running", |tx, ctx| {
            let from = ctx.status_of(tx, id)?;
            if from != Status::Pending {
                return Err(ctx.transition(id, from, Status::Running));
            }
            tx.execute(
                "UPDATE individuals SET status = 'running', started_at = ?2, attempts = attempts + 1 \
                 WHERE id = ?1",
                params![id, now()],
            )
            .map_err(|e| ctx.db(e))?;
            Ok(())
        })
    }

    fn record(
        &mut self,
        id: i64,
        ev: &Evaluation,
        state: Option<&DriverState>,
    ) -> Result<(), StoreError> {
        self.write("recording an evaluation", |tx, ctx| {
            let to = match ev.outcome {
                Outcome::Done => Status::Done,
                Outcome::Failed => Status::Failed,
            };
            let from = ctx.status_of(tx, id)?;
            if from != Status::Running {
                return Err(ctx.transition(id, from, to));
            }
            let (acc, loss) = (finite(ev.val_accuracy), finite(ev.val_loss));
            let error = match ev.outcome {
                Outcome::Done => {
                    let missing: Vec<&str> = [
                        ("params", ev.params.is_none()),
                        ("macs", ev.macs.is_none()),
                        ("a finite validation accuracy", acc.is_none()),
                        ("a finite validation loss", loss.is_none()),
                    ]
                    .into_iter()
                    .filter_map(|(what, m)| m.then_some(what))
                    .collect();
                    if !missing.is_empty() {
                        return Err(ctx.invalid(format!(
                            "the evaluation of individual {id} is done but has no {}",
                            missing.join(", no ")
                        )));
                    }
                    None
                }
                Outcome::Failed => Some(
                    ev.error
                        .clone()
                        .filter(|e| !e.is_empty())
                        .unwrap_or_else(|| "failed (no reason given)".into()),
                ),
            };
            let seconds = if ev.train_seconds.is_finite() {
                ev.train_seconds
            } else {
                0.0
            };
            tx.execute(
                "UPDATE individuals SET status = ?2, params = ?3, macs = ?4, val_accuracy = ?5, \
                 val_loss = ?6, train_seconds = ?7, error = ?8, finished_at = ?9 WHERE id = ?1",
                params![
                    id,
                    to.as_str(),
                    ev.params,
                    ev.macs,
                    acc,
                    loss,
                    seconds,
                    error,
                    now()
                ],
            )
            .map_err(|e| ctx.db(e))?;
            if let Some(s) = state {
                ctx.save_state(tx, s)?;
            }
            Ok(())
        })
    }

    fn save_state(&mut self, state: &DriverState) -> Result<(), StoreError> {
        self.write("saving the driver state", |tx, ctx| {
            ctx.save_state(tx, state)
        })
    }

    fn load_state(&self) -> Result<Option<DriverState>, StoreError> {
        let row = self
            .conn
            .query_row("SELECT rng, state FROM run WHERE id = 1", [], |r| {
                Ok((
                    r.get::<_, Option<Vec<u8>>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })
            .optional()
            .map_err(self.db("reading the driver state"))?;
        let Some((rng, state)) = row else {
            return Err(StoreError::NoRun {
                location: self.location.clone(),
            });
        };
        let (Some(rng), Some(state)) = (rng, state) else {
            return Ok(None);
        };
        let state = serde_json::from_str(&state).map_err(|e| StoreError::Invalid {
            location: self.location.clone(),
            reason: format!("the driver state is not JSON: {e}"),
        })?;
        Ok(Some(DriverState { rng, state }))
    }

    fn reset_running(&mut self) -> Result<Vec<i64>, StoreError> {
        self.write("resetting running individuals", |tx, ctx| {
            let mut ids: Vec<i64> = all(
                tx,
                "UPDATE individuals SET status = 'pending', started_at = NULL \
                 WHERE status = 'running' RETURNING id",
                [],
                |r| r.get(0),
            )
            .map_err(|e| ctx.db(e))?;
            ids.sort_unstable();
            Ok(ids)
        })
    }

    fn individual(&self, id: i64) -> Result<Individual, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {INDIVIDUAL_COLUMNS} FROM individuals WHERE id = ?1"),
                [id],
                individual_from_row,
            )
            .optional()
            .map_err(self.db("reading an individual"))?
            .ok_or_else(|| StoreError::NoIndividual {
                location: self.location.clone(),
                id,
            })
    }

    fn individuals(&self, status: Option<Status>) -> Result<Vec<Individual>, StoreError> {
        all(
            &self.conn,
            &format!(
                "SELECT {INDIVIDUAL_COLUMNS} FROM individuals \
                 WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
            ),
            [status.map(Status::as_str)],
            individual_from_row,
        )
        .map_err(self.db("reading the individuals"))
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let rows = all(
            &self.conn,
            "SELECT status, COUNT(*) FROM individuals GROUP BY status",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .map_err(self.db("counting the individuals"))?;
        let mut c = Counts::default();
        for (status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match Status::parse(&status) {
                Some(Status::Pending) => c.pending = n,
                Some(Status::Running) => c.running = n,
                Some(Status::Done) => c.done = n,
                Some(Status::Failed) => c.failed = n,
                None => {}
            }
        }
        Ok(c)
    }
}
