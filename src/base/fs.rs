//! Files written atomically: the contents go to a temporary file in the same folder, which is flushed to
//! disk and renamed over the target, and the folder is synced — a reader (or a resumed run) sees the old
//! file or the new one, never a torn one, whenever the process dies.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name `path` is written under before the rename: in the same folder (so that the rename is
/// atomic), hidden, and with the same extension (libtorch's savers choose the format by the extension:
/// `W.safetensors` is written as `.W.tmp-PID.safetensors`).
fn temp_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = match path.extension() {
        Some(ext) => format!(
            ".{stem}.tmp-{}.{}",
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{stem}.tmp-{}", std::process::id()),
    };
    path.with_file_name(tmp)
}

/// The folder a file at `path` is created in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Fault injection for the tests of crash safety: with `NASC_FAULT_RENAME_DELAY_MS=N` in the environment,
/// every atomic write waits N ms between writing its temporary file and renaming it over the target (the
/// window a kill must hit to tear a file written in place). With `NASC_FAULT_RENAME_ONLY=NAME` as well, only
/// writes of a file named NAME wait (a training run also writes per-epoch checkpoints). Unset: no delay.
fn fault_delay(path: &Path) {
    if let Ok(only) = std::env::var("NASC_FAULT_RENAME_ONLY") {
        if path.file_name().is_none_or(|n| n.to_string_lossy() != only) {
            return;
        }
    }
    fault_sleep("NASC_FAULT_RENAME_DELAY_MS");
}

/// Fault injection: sleeps the number of milliseconds the environment variable `var` holds (at most 10
/// minutes), or not at all when it is unset. The tests slow a writer down with it so that a kill surely
/// lands in the middle of its work.
pub fn fault_sleep(var: &str) {
    if let Some(ms) = std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(600_000)));
    }
}

/// Checks, before any work starts, that a file can be written at `path`: the folder it goes in exists, is a
/// folder and takes new files (a probe file is created and removed), and `path` is not a folder. The error
/// says which of these fails.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    if path.as_os_str().is_empty() {
        return Err(Error::new(ErrorKind::InvalidInput, "the path is empty"));
    }
    if path.is_dir() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("`{}` is a folder, not a file", path.display()),
        ));
    }
    let dir = folder_of(path);
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("the folder `{}` does not exist", dir.display()),
            ))
        }
        Err(e) => {
            return Err(Error::new(
                e.kind(),
                format!("cannot use the folder `{}`: {e}", dir.display()),
            ))
        }
        Ok(m) if !m.is_dir() => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("`{}` is not a folder", dir.display()),
            ))
        }
        Ok(_) => {}
    }
    let probe = dir.join(format!(".nasc-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::new(
            e.kind(),
            format!("cannot create files in `{}`: {e}", dir.display()),
        )),
    }
}

fn sync_dir(path: &Path) {
    if let Ok(d) = std::fs::File::open(folder_of(path)) {
        let _ = d.sync_all();
    }
}

/// Writes `contents` to `path` atomically.
pub fn write_atomic(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    with_atomic(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(contents.as_ref())?;
        f.sync_all()
    })
}

/// Lets `write` create the file at a temporary path (for writers that take a path, such as libtorch's
/// savers), then syncs it and renames it to `path`. On an error the temporary file is removed and the old
/// `path`, if any, is untouched.
pub fn with_atomic<E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = temp_path(path);
    let r = write(&tmp).and_then(|()| {
        std::fs::File::open(&tmp)?.sync_all()?;
        fault_delay(path);
        std::fs::rename(&tmp, path)?;
        Ok(())
    });
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(path);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("nasc-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.txt");
        write_atomic(&p, "one").unwrap();
        write_atomic(&p, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        let r: Result<(), std::io::Error> = with_atomic(&p, |tmp| {
            std::fs::write(tmp, "half")?;
            Err(std::io::Error::other("interrupted"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_temporary_file_keeps_the_extension() {
        let t = temp_path(Path::new("out/w.safetensors"));
        assert_eq!(t.parent(), Some(Path::new("out")));
        assert_eq!(t.extension().unwrap(), "safetensors");
        assert!(t
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".w.tmp-"));
        let bare = temp_path(Path::new("W"));
        assert!(
            bare.to_string_lossy().starts_with(".W.tmp-"),
            "{}",
            bare.display()
        );
    }

    #[test]
    fn writable_paths_are_checked() {
        let dir = std::env::temp_dir().join(format!("nasc-fs-w-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(check_writable(&dir.join("a.pt")).is_ok());
        let e = check_writable(&dir.join("missing/a.pt")).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(check_writable(&dir)
            .unwrap_err()
            .to_string()
            .contains("folder"));
        std::fs::write(dir.join("f"), "").unwrap();
        assert!(check_writable(&dir.join("f/a.pt")).is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no probe left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
