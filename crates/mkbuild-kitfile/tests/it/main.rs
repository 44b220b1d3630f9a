//! The Kitfile integration tests, one test binary (`cargo test -p mkbuild-kitfile --test it`).

mod config_json;
mod fixtures_match;
mod new_sections;
mod validation;
mod yaml_errors;
