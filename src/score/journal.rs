//! Results written as they are made (`nasc score --out FILE`, `nasc search random --out FILE`), and runs
//! resumed from them (`--resume FILE`).
//!
//! The file is JSON lines. The first line is the [`Header`]: the command and every setting that changes a
//! result (flags, and a fingerprint of each input file's text). Each further line is one [`Record`]: the
//! index of the architecture in the run's deterministic order (the sample under `--seed`, or the rows of
//! `--against`) and its scores, as `nasc score --json` prints them. A record is appended with one write and
//! flushed to disk before the next architecture starts, so a run killed at any moment loses at most the
//! architecture it was scoring; a line torn by the kill is the last line and is dropped on resume.
//!
//! Resuming checks the header against the new run's settings and refuses, naming each setting that
//! differs; it checks that every record's architecture is the one at its index, and scores only the rest.
//! The combined score is a rank-average over all architectures scored together, so it is never stored:
//! it is recomputed over the whole run at the end. Every score is seeded by the architecture's index, so a
//! resumed run's results equal an uninterrupted run's.

use super::{ArchScores, ScoreError};
use crate::base::fs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The version of the file format (the header's `nasc_results`).
pub const FORMAT: u32 = 1;

/// The first line of a results file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub nasc_results: u32,
    /// `score` or `search random`.
    pub command: String,
    /// The settings that change a result, by flag (`--seed`, `--batch`, …; input files by fingerprint).
    pub settings: BTreeMap<String, serde_json::Value>,
}

impl Header {
    pub fn new(command: &str, settings: BTreeMap<String, serde_json::Value>) -> Header {
        Header {
            nasc_results: FORMAT,
            command: command.to_string(),
            settings,
        }
    }
}

/// One scored architecture.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// Its position in the run's order of architectures.
    pub index: usize,
    /// The file it came from.
    pub file: String,
    #[serde(flatten)]
    pub scores: ArchScores,
}

/// A results file opened for a run, and the scores it already holds by index (empty for a new file).
pub type Opened = (Journal, BTreeMap<usize, ArchScores>);

/// A results file open for appending.
pub struct Journal {
    path: PathBuf,
    file: std::fs::File,
    written: usize,
}

fn error(path: &Path, line: usize, message: impl Into<String>) -> ScoreError {
    ScoreError::Results {
        file: path.display().to_string(),
        line,
        message: message.into(),
    }
}

fn header_line(h: &Header) -> String {
    let mut s = serde_json::to_string(h).unwrap_or_default();
    s.push('\n');
    s
}

fn record_line(r: &Record) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string(r)?;
    s.push('\n');
    Ok(s)
}

impl Journal {
    /// Starts a new results file at `path` (written atomically, with the header). An existing file that
    /// holds results is not overwritten: the error says to resume it or to remove it.
    pub fn create(path: &Path, header: &Header) -> Result<Journal, ScoreError> {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.lines().any(|l| !l.trim().is_empty()) {
                return Err(error(
                    path,
                    0,
                    "the file exists and holds results: continue it with `--resume` (same flags), \
                     or remove it to start again",
                ));
            }
        }
        fs::write_atomic(path, header_line(header))
            .map_err(|e| error(path, 0, format!("cannot write it: {e}")))?;
        Self::open(path, 0)
    }

    /// Opens the results file at `path` to continue the run described by `header`: the records already
    /// there, in file order, and the journal to append the rest to. `notes` gets what the user should
    /// know (a torn last line that was dropped).
    pub fn resume(
        path: &Path,
        header: &Header,
        notes: &mut Vec<String>,
    ) -> Result<(Journal, Vec<Record>), ScoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| error(path, 0, format!("cannot read it: {e}")))?;
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        // a line without its newline is one the writer was killed in the middle of
        let torn = lines.last().is_some_and(|l| !l.ends_with('\n'));
        if torn {
            lines.pop();
            notes.push(format!(
                "`{}`: the last line was cut off when the run stopped; it is dropped and that \
                 architecture is scored again",
                path.display()
            ));
        }
        let first = lines
            .first()
            .ok_or_else(|| error(path, 0, "the file is empty: it has no header line"))?;
        let saved: Header = serde_json::from_str(first).map_err(|e| {
            error(
                path,
                1,
                format!("not a nasc results file (the first line is not its header: {e})"),
            )
        })?;
        if saved.nasc_results != FORMAT {
            return Err(error(
                path,
                1,
                format!(
                    "results format {} (this nasc reads format {FORMAT})",
                    saved.nasc_results
                ),
            ));
        }
        if saved.command != header.command {
            return Err(error(
                path,
                1,
                format!(
                    "written by `nasc {}`, not `nasc {}`",
                    saved.command, header.command
                ),
            ));
        }
        let saved_settings = serde_json::to_value(&saved.settings).unwrap_or_default();
        let now_settings = serde_json::to_value(&header.settings).unwrap_or_default();
        let diff = crate::base::differences(&saved_settings, &now_settings, "in the file");
        if !diff.is_empty() {
            return Err(error(
                path,
                1,
                format!(
                    "this run's settings differ from the ones the file was written with:\n{}\n\
                     resume with the same flags (or start a new --out file)",
                    diff.join("\n")
                ),
            ));
        }
        let mut records = Vec::new();
        for (k, l) in lines.iter().enumerate().skip(1) {
            if l.trim().is_empty() {
                continue;
            }
            let mut r: Record = serde_json::from_str(l)
                .map_err(|e| error(path, k + 1, format!("not a result record: {e}")))?;
            r.scores.restore_reasons();
            records.push(r);
        }
        if torn {
            // keep the file whole before appending to it
            let mut whole = String::new();
            for l in &lines {
                whole.push_str(l);
            }
            fs::write_atomic(path, whole)
                .map_err(|e| error(path, 0, format!("cannot write it: {e}")))?;
        }
        let n = records.len();
        Ok((Self::open(path, n)?, records))
    }

    fn open(path: &Path, written: usize) -> Result<Journal, ScoreError> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| error(path, 0, format!("cannot open it for writing: {e}")))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            written,
        })
    }

    /// Appends one record (one write, then flushed to disk).
    pub fn append(&mut self, record: &Record) -> Result<(), ScoreError> {
        let line = record_line(record)
            .map_err(|e| error(&self.path, 0, format!("cannot encode a record: {e}")))?;
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| error(&self.path, 0, format!("cannot write it: {e}")))?;
        self.written += 1;
        // for the tests of a killed run (`NASC_FAULT_RECORD_DELAY_MS`); nothing when unset
        fs::fault_sleep("NASC_FAULT_RECORD_DELAY_MS");
        Ok(())
    }

    /// Records in the file (resumed ones included).
    pub fn len(&self) -> usize {
        self.written
    }

    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The records of a resumed run by index, checked against the run's architectures: record `i` must be
/// of the architecture the run puts at `i` (`labels[i]`, its `NAME=INDEX` decisions).
pub fn prior(
    path: &Path,
    records: Vec<Record>,
    labels: &[String],
) -> Result<BTreeMap<usize, ArchScores>, ScoreError> {
    let mut out = BTreeMap::new();
    for r in records {
        match labels.get(r.index) {
            Some(l) if *l == r.scores.arch => {
                out.insert(r.index, r.scores);
            }
            Some(l) => {
                return Err(error(
                    path,
                    0,
                    format!(
                        "record {} is architecture `{}`, but this run's architecture {} is `{l}` \
                         (was the space file changed?)",
                        r.index, r.scores.arch, r.index
                    ),
                ))
            }
            None => {
                return Err(error(
                    path,
                    0,
                    format!(
                        "record {} is past this run's {} architectures",
                        r.index,
                        labels.len()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// A setting's value for a header: anything serializable.
pub fn setting(v: impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A file's setting: its path and the fingerprint of its text.
pub fn file_setting(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::json!({
        "path": path.display().to_string(),
        "fingerprint": crate::base::fingerprint(&text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{Pick, Signal};

    fn scores(arch: &str, epe: Option<f64>) -> ArchScores {
        let mut s = indexmap::IndexMap::new();
        let mut no = indexmap::IndexMap::new();
        match epe {
            Some(v) => {
                s.insert("epe".to_string(), Signal::Value(v));
            }
            None => {
                s.insert("epe".to_string(), Signal::NoSignal("dead".into()));
                no.insert("epe".to_string(), "dead".to_string());
            }
        }
        ArchScores {
            network: "net".into(),
            arch: arch.into(),
            choices: vec![Pick {
                name: "a".into(),
                index: 1,
                option: "conv".into(),
            }],
            live: true,
            live_params: 10,
            live_macs: 20,
            scores: s,
            no_signal: no,
            combined: None,
            chunk: None,
            epe_form: Some("sum".into()),
            seconds: 0.5,
        }
    }

    fn header(seed: u64) -> Header {
        Header::new(
            "score",
            BTreeMap::from([("--seed".to_string(), setting(seed))]),
        )
    }

    #[test]
    fn records_round_trip_and_resume_skips_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let mut j = Journal::create(&p, &header(1)).unwrap();
        j.append(&Record {
            index: 0,
            file: "f".into(),
            scores: scores("a=1", Some(2.5)),
        })
        .unwrap();
        j.append(&Record {
            index: 1,
            file: "f".into(),
            scores: scores("a=0", None),
        })
        .unwrap();
        drop(j);
        // a new run does not overwrite it
        assert!(Journal::create(&p, &header(1)).is_err());
        let mut notes = vec![];
        let (j, recs) = Journal::resume(&p, &header(1), &mut notes).unwrap();
        assert_eq!(j.len(), 2);
        assert!(notes.is_empty());
        let m = prior(&p, recs, &["a=1".into(), "a=0".into(), "a=2".into()]).unwrap();
        assert_eq!(m[&0].scores["epe"], Signal::Value(2.5));
        assert_eq!(m[&1].scores["epe"], Signal::NoSignal("dead".into()));
        assert_eq!(m[&0].epe_form.as_deref(), Some("sum"));
        // another seed is refused, naming the flag
        let e = Journal::resume(&p, &header(2), &mut notes)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--seed: 1 in the file, 2 now"), "{e}");
        // a record of another architecture at its index is refused
        let (_, recs) = Journal::resume(&p, &header(1), &mut notes).unwrap();
        assert!(prior(&p, recs, &["a=2".into(), "a=0".into()]).is_err());
    }

    #[test]
    fn a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let mut j = Journal::create(&p, &header(1)).unwrap();
        j.append(&Record {
            index: 0,
            file: "f".into(),
            scores: scores("a=1", Some(2.5)),
        })
        .unwrap();
        drop(j);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"index\":1,\"fi").unwrap();
        drop(f);
        let mut notes = vec![];
        let (mut j, recs) = Journal::resume(&p, &header(1), &mut notes).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(notes.len(), 1, "{notes:?}");
        j.append(&Record {
            index: 1,
            file: "f".into(),
            scores: scores("a=0", Some(1.0)),
        })
        .unwrap();
        let (_, recs) = Journal::resume(&p, &header(1), &mut notes).unwrap();
        assert_eq!(recs.len(), 2);
        // a bad line in the middle is an error with its line number
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(2, "nonsense");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let e = Journal::resume(&p, &header(1), &mut notes)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
    }
}
