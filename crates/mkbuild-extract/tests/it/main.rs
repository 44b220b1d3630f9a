//! Hostile and ordinary archives through the extractor, end to end on a real file system.

mod commit;
mod common;
mod conflicts;
mod modes;
mod names;
mod race;
mod round_trip;
mod sparse;
mod truncation;
mod types;
mod verifying_reader;
