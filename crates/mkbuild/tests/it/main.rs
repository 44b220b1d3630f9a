//! The CLI integration tests, one test binary (`cargo test -p mkbuild --test it`): each module was
//! a test file of its own; `common` holds what they share.

mod build_cache;
mod byte_compat;
mod cli_formats;
mod cli_pack;
mod common;
mod crash_safety;
mod disk_full;
mod everyday;
mod formats_travel;
mod gc;
mod help;
mod hostile;
mod hostile_registry;
mod kit_commands;
mod kit_testdata;
mod large_files;
mod layer_formats;
mod modelpack;
mod pack_push;
mod partial_pull;
mod plugins;
mod progress;
mod red_team;
mod referrers;
mod reflink;
mod registry;
mod resume;
mod sbom;
mod signing;
mod signing_keys;
mod tls_registry;
mod trust_policy;
mod unpack;
mod unpack_filter;
mod unreadable_files;
