//! Worker processes: [`Workers`] runs each job in one of W long-lived worker processes (`nasc-torch
//! search worker`), so W children train at once with their own libtorch (whose random generator and
//! thread pool are per process), and a child that crashes its worker (a segfault, the OOM killer) is a
//! failed evaluation, not a dead search. The protocol is one JSON [`Job`] per line on the worker's stdin
//! and one JSON [`JobResult`] per line on its stdout; [`serve`] is the worker's side. A worker dies with
//! its parent (Linux `PR_SET_PDEATHSIG`) and ignores the terminal's Ctrl-C, which the driver handles.

use super::{evaluate, Executor, Job, JobResult};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a worker's reader thread reports.
enum Event {
    Result(usize, JobResult),
    /// The worker's stdout closed (it exited or was killed).
    Died(usize),
    /// A line that is not a result (a protocol error).
    Garbage(usize, String),
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// The job it runs.
    busy: Option<Job>,
    /// The last lines it wrote to stderr.
    stderr: Arc<Mutex<Vec<String>>>,
}

/// W worker processes.
pub struct Workers {
    program: PathBuf,
    args: Vec<String>,
    slots: Vec<Option<Worker>>,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    /// When set, `wait` stops waiting and returns None (Ctrl-C).
    stop: Option<&'static AtomicBool>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("program", &self.program)
            .field("workers", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Workers {
    /// `n` workers, each started as `program args…` when first needed.
    pub fn new(program: PathBuf, args: Vec<String>, n: usize) -> Workers {
        let (tx, rx) = channel();
        Workers {
            program,
            args,
            slots: (0..n.max(1)).map(|_| None).collect(),
            tx,
            rx,
            stop: None,
        }
    }

    /// Makes `wait` return None soon after `stop` is set.
    pub fn with_stop(mut self, stop: &'static AtomicBool) -> Workers {
        self.stop = Some(stop);
        self
    }

    /// `n` workers running this executable's `search worker` command.
    pub fn this_executable(n: usize) -> std::io::Result<Workers> {
        Ok(Workers::new(
            std::env::current_exe()?,
            vec!["search".into(), "worker".into()],
            n,
        ))
    }

    fn spawn(&self, slot: usize) -> std::io::Result<Worker> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let stderr_pipe = child.stderr.take();
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let ev = match serde_json::from_str::<JobResult>(&line) {
                    Ok(r) => Event::Result(slot, r),
                    Err(_) => Event::Garbage(slot, line),
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
            let _ = tx.send(Event::Died(slot));
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(pipe) = stderr_pipe {
            let keep = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut v) = keep.lock() {
                        v.push(line);
                        let n = v.len();
                        if n > 20 {
                            v.drain(..n - 20);
                        }
                    }
                }
            });
        }
        Ok(Worker {
            child,
            stdin,
            busy: None,
            stderr,
        })
    }

    /// Ends worker `slot` and returns the failed result of the job it ran.
    fn bury(&mut self, slot: usize, what: &str) -> Option<JobResult> {
        let mut w = self.slots[slot].take()?;
        let _ = w.child.kill();
        let status = w.child.wait().ok();
        let tail = w.stderr.lock().map(|v| v.join("\n")).unwrap_or_default();
        let job = w.busy.take()?;
        let how = match status {
            Some(s) => {
                use std::os::unix::process::ExitStatusExt;
                match (s.code(), s.signal()) {
                    (_, Some(9)) => "was killed (signal 9: out of memory?)".to_string(),
                    (_, Some(sig)) => format!("was killed by signal {sig}"),
                    (Some(c), _) => format!("exited with status {c}"),
                    _ => "ended".to_string(),
                }
            }
            None => "ended".to_string(),
        };
        let mut why = format!("the worker process {how} {what}");
        if !tail.trim().is_empty() {
            why.push_str(&format!("; its last output:\n{tail}"));
        }
        Some(JobResult::failed(job.id, why))
    }
}

impl Executor for Workers {
    fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn submit(&mut self, job: Job) {
        let slot = self
            .slots
            .iter()
            .position(|w| w.as_ref().is_some_and(|w| w.busy.is_none()))
            .or_else(|| self.slots.iter().position(Option::is_none));
        let Some(slot) = slot else {
            // the caller broke the capacity contract: answer at once
            let _ = self.tx.send(Event::Result(
                usize::MAX,
                JobResult::failed(job.id, "internal error: more jobs than workers".into()),
            ));
            return;
        };
        if self.slots[slot].is_none() {
            match self.spawn(slot) {
                Ok(w) => self.slots[slot] = Some(w),
                Err(e) => {
                    let why = format!(
                        "cannot start a worker process ({}): {e}",
                        self.program.display()
                    );
                    let _ = self
                        .tx
                        .send(Event::Result(usize::MAX, JobResult::failed(job.id, why)));
                    return;
                }
            }
        }
        let Some(w) = self.slots[slot].as_mut() else {
            return;
        };
        let line = serde_json::to_string(&job).unwrap_or_default();
        // a write to a dead worker fails quietly: its reader thread reports the death, and the job fails
        let _ = writeln!(w.stdin, "{line}").and_then(|()| w.stdin.flush());
        w.busy = Some(job);
    }

    fn wait(&mut self) -> Option<JobResult> {
        loop {
            let busy = self
                .slots
                .iter()
                .any(|w| w.as_ref().is_some_and(|w| w.busy.is_some()));
            // results answered at submit time have no slot
            let ev = if busy {
                match self.rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(ev) => ev,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        if self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                            return None;
                        }
                        continue;
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
                }
            } else {
                match self.rx.try_recv() {
                    Ok(ev) => ev,
                    Err(_) => return None,
                }
            };
            match ev {
                Event::Result(usize::MAX, r) => return Some(r),
                Event::Result(slot, r) => {
                    if let Some(w) = self.slots.get_mut(slot).and_then(Option::as_mut) {
                        if w.busy.as_ref().is_some_and(|j| j.id == r.id) {
                            w.busy = None;
                            return Some(r);
                        }
                    }
                }
                Event::Died(slot) => {
                    if let Some(r) = self.bury(slot, "while evaluating this child") {
                        return Some(r);
                    }
                }
                Event::Garbage(slot, line) => {
                    let what = format!("after writing a line that is not a result: {line:?}");
                    if let Some(r) = self.bury(slot, &what) {
                        return Some(r);
                    }
                }
            }
        }
    }

    fn abort(&mut self) {
        for w in self.slots.iter_mut() {
            if let Some(mut w) = w.take() {
                let _ = w.child.kill();
                let _ = w.child.wait();
            }
        }
        while self.rx.try_recv().is_ok() {}
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for w in self.slots.iter_mut().flatten() {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
    }
}

/// The worker's side: evaluates one job per line of stdin and answers one result per line, until stdin
/// closes. Stray output of libraries goes to stderr: the protocol owns stdout.
pub fn serve() -> std::io::Result<()> {
    // SAFETY: plain libc calls on this process's own descriptors and signal dispositions.
    let out_fd = unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        let fd = libc::dup(1);
        libc::dup2(2, 1);
        fd
    };
    if out_fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    use std::os::fd::FromRawFd;
    // SAFETY: `out_fd` is a fresh descriptor that nothing else owns.
    let mut out = std::io::BufWriter::new(unsafe { std::fs::File::from_raw_fd(out_fd) });
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let result = match serde_json::from_str::<Job>(&line) {
            Ok(job) => evaluate(&job),
            Err(e) => {
                let id = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v["id"].as_u64())
                    .unwrap_or(0);
                JobResult::failed(id, format!("the worker could not read the job: {e}"))
            }
        };
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
        out.flush()?;
    }
    Ok(())
}
