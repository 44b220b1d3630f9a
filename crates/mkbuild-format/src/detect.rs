//! How a format recognises a stored ModelKit that does not record its format (one made by kit or
//! another tool): the spec table `[detect]`. The engine tries the formats' rules in a fixed order
//! (`FormatRegistry::detect`) and names no format itself.

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

/// `[detect]`: every rule given must hold; a format without the table is never detected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DetectRules {
    /// `true`: some Kitfile entry of the config carries its layer's `digest`/`diffId`;
    /// `false`: none does.
    #[serde(default)]
    pub config_layer_info: Option<bool>,
    /// Glob patterns (`*` matches anything, `/` included); every layer's media type must match one.
    #[serde(default)]
    pub layer_media_types: Option<Vec<String>>,
}

/// What detection looks at in a stored ModelKit.
#[derive(Debug, Clone)]
pub struct KitFacts<'a> {
    /// The media type of every layer of the manifest, in order.
    pub layer_media_types: Vec<&'a str>,
    /// Whether any Kitfile entry of the config carries layer facts (`digest`, `diffId`).
    pub config_layer_info: bool,
}

impl DetectRules {
    /// Checks the rules; the error names the key and what to write instead.
    pub fn check(&self) -> Result<(), String> {
        if self.config_layer_info.is_none() && self.layer_media_types.is_none() {
            return Err("key `detect`: give at least one rule (`config-layer-info`, `layer-media-types`), or leave the table out so the format is never detected".into());
        }
        self.matchers().map(|_| ())
    }

    fn matchers(&self) -> Result<Vec<GlobMatcher>, String> {
        self.layer_media_types
            .iter()
            .flatten()
            .map(|p| {
                Glob::new(p)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("key `detect.layer-media-types`: pattern `{p}`: {e}"))
            })
            .collect()
    }

    /// Whether a ModelKit with these facts is of this format.
    pub fn matches(&self, facts: &KitFacts<'_>) -> bool {
        if self
            .config_layer_info
            .is_some_and(|want| want != facts.config_layer_info)
        {
            return false;
        }
        if self.layer_media_types.is_some() {
            // Checked when the spec was added; a pattern that no longer compiles matches nothing.
            let Ok(matchers) = self.matchers() else {
                return false;
            };
            return facts
                .layer_media_types
                .iter()
                .all(|t| matchers.iter().any(|m| m.is_match(t)));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(types: &[&'a str], info: bool) -> KitFacts<'a> {
        KitFacts {
            layer_media_types: types.to_vec(),
            config_layer_info: info,
        }
    }

    #[test]
    fn every_rule_must_hold() {
        let rules = DetectRules {
            config_layer_info: Some(true),
            layer_media_types: Some(vec!["application/vnd.kitops.*".into()]),
        };
        assert!(rules.matches(&facts(
            &["application/vnd.kitops.modelkit.model.v1.tar"],
            true
        )));
        assert!(!rules.matches(&facts(
            &["application/vnd.kitops.modelkit.model.v1.tar"],
            false
        )));
        assert!(!rules.matches(&facts(
            &[
                "application/vnd.kitops.modelkit.model.v1.tar",
                "application/x-other"
            ],
            true
        )));
    }

    #[test]
    fn an_empty_table_and_a_bad_pattern_are_refused() {
        let err = DetectRules::default().check().unwrap_err();
        assert!(err.contains("key `detect`"), "{err}");
        let rules = DetectRules {
            config_layer_info: None,
            layer_media_types: Some(vec!["a/[b".into()]),
        };
        let err = rules.check().unwrap_err();
        assert!(
            err.contains("detect.layer-media-types") && err.contains("a/[b"),
            "{err}"
        );
    }
}
