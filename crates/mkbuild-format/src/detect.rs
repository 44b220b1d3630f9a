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
    /// Glob patterns; the manifest's `artifactType` must match one.
    #[serde(default)]
    pub artifact_type: Option<Vec<String>>,
    /// Glob patterns; the config's media type must match one.
    #[serde(default)]
    pub config_media_type: Option<Vec<String>>,
    /// Annotation keys every layer must carry (today's kit names each layer's path; older kit
    /// did not), so that a format can claim the ModelKits one writer generation made.
    #[serde(default)]
    pub layer_annotations: Option<Vec<String>>,
}

/// What detection looks at in a stored ModelKit.
#[derive(Debug, Clone)]
pub struct KitFacts<'a> {
    /// The media type of every layer, in manifest order.
    pub layer_media_types: Vec<&'a str>,
    /// The manifest's `artifactType`, if it has one.
    pub artifact_type: Option<&'a str>,
    /// The config descriptor's media type.
    pub config_media_type: &'a str,
    /// The annotation keys of every layer, in manifest order.
    pub layer_annotations: Vec<Vec<&'a str>>,
    /// Whether any Kitfile entry of the config carries layer facts (`digest`, `diffId`).
    pub config_layer_info: bool,
}

/// The matchers of a rule's patterns; the error names the key and the pattern.
fn compile(key: &str, patterns: &Option<Vec<String>>) -> Result<Vec<GlobMatcher>, String> {
    patterns
        .iter()
        .flatten()
        .map(|p| {
            Glob::new(p)
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("key `detect.{key}`: pattern `{p}`: {e}"))
        })
        .collect()
}

/// Whether `value` matches one of the rule's patterns (a rule not given holds).
fn holds(key: &str, patterns: &Option<Vec<String>>, value: Option<&str>) -> bool {
    if patterns.is_none() {
        return true;
    }
    let Ok(matchers) = compile(key, patterns) else {
        return false;
    };
    value.is_some_and(|v| matchers.iter().any(|m| m.is_match(v)))
}

impl DetectRules {
    /// Checks the rules; the error names the key and what to write instead.
    pub fn check(&self) -> Result<(), String> {
        if self.config_layer_info.is_none()
            && self.layer_media_types.is_none()
            && self.artifact_type.is_none()
            && self.config_media_type.is_none()
            && self.layer_annotations.is_none()
        {
            return Err("key `detect`: give at least one rule (`config-layer-info`, `layer-media-types`, `artifact-type`, `config-media-type`, `layer-annotations`), or leave the table out so the format is never detected".into());
        }
        for (key, patterns) in [
            ("layer-media-types", &self.layer_media_types),
            ("artifact-type", &self.artifact_type),
            ("config-media-type", &self.config_media_type),
        ] {
            compile(key, patterns)?;
        }
        Ok(())
    }

    fn matchers(&self) -> Result<Vec<GlobMatcher>, String> {
        compile("layer-media-types", &self.layer_media_types)
    }

    /// Whether a ModelKit with these facts is of this format.
    pub fn matches(&self, facts: &KitFacts<'_>) -> bool {
        if self
            .config_layer_info
            .is_some_and(|want| want != facts.config_layer_info)
        {
            return false;
        }
        if let Some(keys) = &self.layer_annotations {
            let every_layer_has_them = !facts.layer_annotations.is_empty()
                && facts
                    .layer_annotations
                    .iter()
                    .all(|layer| keys.iter().all(|k| layer.contains(&k.as_str())));
            if !every_layer_has_them {
                return false;
            }
        }
        if !holds("artifact-type", &self.artifact_type, facts.artifact_type)
            || !holds(
                "config-media-type",
                &self.config_media_type,
                Some(facts.config_media_type),
            )
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
            artifact_type: None,
            config_media_type: "application/vnd.kitops.modelkit.config.v1+json",
            layer_annotations: Vec::new(),
            config_layer_info: info,
        }
    }

    #[test]
    fn every_rule_must_hold() {
        let rules = DetectRules {
            config_layer_info: Some(true),
            layer_media_types: Some(vec!["application/vnd.kitops.*".into()]),
            ..DetectRules::default()
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
            layer_media_types: Some(vec!["a/[b".into()]),
            ..DetectRules::default()
        };
        let err = rules.check().unwrap_err();
        assert!(
            err.contains("detect.layer-media-types") && err.contains("a/[b"),
            "{err}"
        );
        let rules = DetectRules {
            config_media_type: Some(vec!["c/[d".into()]),
            ..DetectRules::default()
        };
        let err = rules.check().unwrap_err();
        assert!(err.contains("detect.config-media-type"), "{err}");
    }

    #[test]
    fn artifact_and_config_media_types_are_rules_too() {
        let rules = DetectRules {
            artifact_type: Some(vec!["application/vnd.cncf.model.manifest.v1+json".into()]),
            ..DetectRules::default()
        };
        let mut f = facts(&[], false);
        assert!(!rules.matches(&f), "no artifactType: no match");
        f.artifact_type = Some("application/vnd.cncf.model.manifest.v1+json");
        assert!(rules.matches(&f));
        let rules = DetectRules {
            config_media_type: Some(vec!["application/vnd.c*.model.config.v1+json".into()]),
            ..DetectRules::default()
        };
        assert!(!rules.matches(&f));
        f.config_media_type = "application/vnd.cnai.model.config.v1+json";
        assert!(rules.matches(&f));
    }
}
