//! The tar reader of unpack: any bytes as a layer extract or fail, never panic, and nothing lands
//! outside the target (its parent holds only the target afterwards).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mkbuild_extract::Extractor;

fuzz_target!(|data: &[u8]| {
    let parent = tempfile::tempdir().expect("tempdir");
    let target = parent.path().join("target");
    let Ok(mut extractor) = Extractor::new(&target) else {
        return;
    };
    let place = |name: &str| Some(name.to_owned());
    if extractor.extract_tar(data, "fuzz", &place).is_ok() {
        let _ = extractor.commit(false);
    } else {
        drop(extractor);
    }
    for entry in std::fs::read_dir(parent.path()).expect("read_dir") {
        let name = entry.expect("entry").file_name();
        assert_eq!(name, "target", "something was written beside the target");
    }
});
