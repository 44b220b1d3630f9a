//! A concurrent writer in the target swaps folders for links while unpack stages and commits:
//! nothing may ever be written outside the target.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mkbuild_extract::{ExtractError, Extractor};
use rustix::fs::{renameat_with, RenameFlags, CWD};

use crate::common::{file, folder, names, tar};

const ATTEMPTS: u32 = 400;
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Exchanges `a` and `b` atomically (one of them a link): both names always exist.
fn exchange(a: &Path, b: &Path) -> bool {
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).is_ok()
}

/// Every attempt stages files into `data/` and `data/deep/` (existing folders, merged into) and a
/// new folder; a thread keeps swapping `data` for a link to `outside`, and `data` inside any
/// staging folder it finds for a link too.
#[test]
fn swapping_folders_for_links_never_sends_a_write_outside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("target");
    let outside = dir.path().join("outside");
    fs::create_dir_all(target.join("data/deep")).expect("mkdir");
    fs::create_dir_all(&outside).expect("mkdir");
    symlink(&outside, target.join("data-link")).expect("symlink");

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let attacker = {
        let (stop, swaps, target, outside) =
            (stop.clone(), swaps.clone(), target.clone(), outside.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if exchange(&target.join("data"), &target.join("data-link")) {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                let Ok(listing) = fs::read_dir(&target) else {
                    continue;
                };
                for item in listing.flatten() {
                    if item
                        .file_name()
                        .to_string_lossy()
                        .starts_with(".mkbuild-unpack-")
                    {
                        let staging = item.path();
                        let link = staging.join("evil-link");
                        let _ = symlink(&outside, &link);
                        if exchange(&staging.join("data"), &link) {
                            swaps.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        })
    };

    let started = Instant::now();
    let (mut attempts, mut unpacked, mut refused) = (0u32, 0u32, 0u32);
    let mut first_error = None;
    while attempts < ATTEMPTS && started.elapsed() < TIME_LIMIT {
        let mut entries = vec![folder(b"data", 0o755), folder(b"data/deep", 0o755)];
        for i in 0..8 {
            entries.push(file(
                format!("data/f{attempts}-{i}").as_bytes(),
                0o644,
                b"x",
            ));
            entries.push(file(
                format!("data/deep/g{attempts}-{i}").as_bytes(),
                0o644,
                b"y",
            ));
        }
        entries.push(folder(format!("data/new{attempts}").as_bytes(), 0o700));
        entries.push(file(
            format!("data/new{attempts}/h").as_bytes(),
            0o644,
            b"z",
        ));
        let layer = tar(&entries);
        let result = Extractor::new(&target).and_then(|mut extractor| {
            extractor.extract_tar(&layer[..], "race", &|name| Ok(Some(name.to_string())))?;
            extractor.commit(false)
        });
        match result {
            Ok(_) => unpacked += 1,
            Err(e) => {
                refused += 1;
                // A clear refusal: a link or a change in the target, or a folder of staging that
                // is no longer one.
                let clear = match &e {
                    ExtractError::SymlinkInTarget { .. } | ExtractError::TargetChanged { .. } => {
                        true
                    }
                    ExtractError::Io {
                        path,
                        cause: source,
                        ..
                    } => {
                        path.to_string_lossy().contains("/.mkbuild-unpack-")
                            // ENOENT, EEXIST, ENOTDIR, ELOOP
                            && matches!(source.raw_os_error(), Some(2 | 17 | 20 | 40))
                    }
                    _ => false,
                };
                assert!(clear, "attempt {attempts}: unexpected error: {e}");
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
        attempts += 1;
        assert_eq!(
            names(&outside),
            Vec::<String>::new(),
            "attempt {attempts}: unpack wrote outside the target"
        );
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().expect("attacker thread");
    eprintln!(
        "{attempts} attempts in {:?}: {unpacked} unpacked, {refused} refused ({} swaps); first error: {first_error:?}",
        started.elapsed(),
        swaps.load(Ordering::Relaxed)
    );
    assert!(attempts >= 100, "only {attempts} attempts ran");
    assert!(
        swaps.load(Ordering::Relaxed) > u64::from(attempts),
        "the attacker hardly ran"
    );
    assert!(
        refused > 0,
        "the attack never got in the way: the test proves nothing"
    );
    assert_eq!(names(&outside), Vec::<String>::new());
}
