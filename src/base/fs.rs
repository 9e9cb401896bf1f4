//! Files written atomically: the contents go to a temporary file in the same folder, which is flushed to
//! disk and renamed over the target, and the folder is synced — a reader (or a resumed run) sees the old
//! file or the new one, never a torn one, whenever the process dies.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name `path` is written under before the rename: same folder (so the rename is atomic),
/// same extension (writers such as libtorch's choose the format by it): `.NAME.tmp-PID.EXT`.
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

fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
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
}
