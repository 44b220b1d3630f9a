//! The `modelpack-config` enricher: the CNCF ModelPack config object
//! (`application/vnd.cncf.model.config.v1+json`) as kit's `--use-model-pack` writes it, that is
//! `json.Marshal(kitfile.ToModelPackConfig(diffIDs))` with model-spec's `modelspecv1.Model`.
//!
//! Bytes: compact, keys in Go struct order, Go's `omitempty` rules, Go's HTML-safe string escapes
//! (Go 1.22 and later, see `mkbuild_kitfile::go_json`):
//!
//! ```text
//! {"descriptor":{"createdAt"?,"authors"?,"name"?,"version"?,"licenses"?,"title"?,"description"?},
//!  "modelfs":{"type":"layers","diffIds":[...]},
//!  "config":{"format"?}}
//! ```
//!
//! - `descriptor.createdAt` is written only when pack has a creation time (`created`, from
//!   `SOURCE_DATE_EPOCH`), never from the clock, so a pack stays reproducible (kit writes
//!   `time.Now()` there). It is written as Go writes a UTC `time.Time` (RFC 3339 with the
//!   fraction's trailing zeros dropped and `Z`); a `created` that is not an RFC 3339 time, or
//!   whose year is outside 0..=9999 (Go's `MarshalJSON` refuses those), is an error.
//! - `authors`, `name`, `version`, `description` come from `package`; `title` is `package.name`.
//! - `licenses`: the non-empty licenses of `package`, `model`, `model.parts[]`, `datasets[]` and
//!   `code[]`, sorted by bytes and deduplicated (kit's `collectLicenses`).
//! - `modelfs.diffIds`: each layer's `diff_id`, in layer order. With no layer at all the config
//!   is refused: kit would write `"diffIds":[]`, which fails the model-spec schema (`minItems: 1`).
//! - `config.format` is `model.format`; nothing else is mapped, so `config` is often `{}`.
//!
//! Reading back ([`ConfigEnricher::kitfile`]): a ModelPack config does not describe the Kitfile's
//! entries (it has only diffIds, no paths), so the Kitfile it gives has `manifestVersion` 1.0.0
//! and a `package` only: `name` (the descriptor's `name`, else its `title`), `version`,
//! `authors`, `description`, and `license` when the descriptor lists exactly one license (which
//! may have come from any section). It has no model, code, datasets or docs. A config that is not
//! a JSON object with a `descriptor` object and a `modelfs` of type `layers` is an error.
//!
//! Settings: none.

use mkbuild_format::{ConfigEnricher, Kitfile, PackedLayer, PluginError, Settings};
use mkbuild_kitfile::go_json::{self, ObjectWriter};
use serde_json::Value;

/// The ModelPack config object kit writes with `--use-model-pack`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelPackConfig;

impl ModelPackConfig {
    /// Builds the enricher; it takes no settings.
    pub fn from_settings(settings: Settings) -> Result<Box<dyn ConfigEnricher>, PluginError> {
        settings.finish(&[])?;
        Ok(Box::new(ModelPackConfig))
    }
}

impl ConfigEnricher for ModelPackConfig {
    fn config(&self, kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<u8>, PluginError> {
        self.config_at(kitfile, layers, None)
    }

    fn config_at(
        &self,
        kitfile: &Kitfile,
        layers: &[PackedLayer],
        created: Option<&str>,
    ) -> Result<Vec<u8>, PluginError> {
        if layers.is_empty() {
            return Err(PluginError::Failed(
                "a ModelPack config needs at least one layer (model-spec requires a non-empty \
                 `modelfs.diffIds`), but the Kitfile packs no files"
                    .to_owned(),
            ));
        }
        let created = created.map(go_utc_time).transpose()?;
        let package = &kitfile.package;

        let mut out = Vec::with_capacity(256 + 80 * layers.len());
        let mut top = ObjectWriter::begin(&mut out);

        let mut descriptor = ObjectWriter::begin(top.key("descriptor"));
        if let Some(created) = &created {
            descriptor.str("createdAt", created);
        }
        if !package.authors.is_empty() {
            write_str_array(descriptor.key("authors"), &package.authors);
        }
        descriptor.str_omitempty("name", &package.name);
        descriptor.str_omitempty("version", &package.version);
        let licenses = licenses(kitfile);
        if !licenses.is_empty() {
            write_str_array(descriptor.key("licenses"), &licenses);
        }
        descriptor.str_omitempty("title", &package.name);
        descriptor.str_omitempty("description", &package.description);
        descriptor.end();

        let mut modelfs = ObjectWriter::begin(top.key("modelfs"));
        modelfs.str("type", "layers");
        let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
        write_str_array(modelfs.key("diffIds"), &diff_ids);
        modelfs.end();

        let mut config = ObjectWriter::begin(top.key("config"));
        if let Some(model) = &kitfile.model {
            config.str_omitempty("format", &model.format);
        }
        config.end();

        top.end();
        Ok(out)
    }

    fn kitfile(&self, config: &[u8]) -> Result<Kitfile, PluginError> {
        let bad = |what: &str| PluginError::Failed(format!("not a ModelPack config: {what}"));
        let value: Value =
            serde_json::from_slice(config).map_err(|e| bad(&format!("invalid JSON ({e})")))?;
        let descriptor = value
            .get("descriptor")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("no `descriptor` object"))?;
        let fs_type = value
            .get("modelfs")
            .and_then(|fs| fs.get("type"))
            .and_then(Value::as_str);
        if fs_type != Some("layers") {
            return Err(bad("no `modelfs` of type `layers`"));
        }

        let text = |key: &str| -> Result<String, PluginError> {
            match descriptor.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(bad(&format!("`descriptor.{key}` is not a string"))),
            }
        };
        let texts = |key: &str| -> Result<Vec<String>, PluginError> {
            match descriptor.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| bad(&format!("`descriptor.{key}` is not a list of strings"))),
                Some(_) => Err(bad(&format!("`descriptor.{key}` is not a list"))),
            }
        };

        let mut name = text("name")?;
        if name.is_empty() {
            name = text("title")?;
        }
        let mut licenses = texts("licenses")?;
        let license = if licenses.len() == 1 {
            licenses.pop().unwrap_or_default()
        } else {
            String::new()
        };
        let mut kitfile = Kitfile {
            manifest_version: mkbuild_kitfile::MANIFEST_VERSION.to_owned(),
            ..Kitfile::default()
        };
        kitfile.package.name = name;
        kitfile.package.version = text("version")?;
        kitfile.package.description = text("description")?;
        kitfile.package.authors = texts("authors")?;
        kitfile.package.license = license;
        Ok(kitfile)
    }
}

/// kit's `collectLicenses`: every non-empty license of the package, the model, its parts, the
/// datasets and the code, sorted by bytes (Go's `slices.Sort`) and deduplicated.
fn licenses(kitfile: &Kitfile) -> Vec<&str> {
    let mut all: Vec<&str> = vec![kitfile.package.license.as_str()];
    if let Some(model) = &kitfile.model {
        all.push(&model.license);
        all.extend(model.parts.iter().map(|p| p.license.as_str()));
    }
    all.extend(kitfile.datasets.iter().map(|d| d.license.as_str()));
    all.extend(kitfile.code.iter().map(|c| c.license.as_str()));
    all.retain(|l| !l.is_empty());
    all.sort_unstable();
    all.dedup();
    all
}

fn write_str_array<S: AsRef<str>>(out: &mut Vec<u8>, items: &[S]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        go_json::write_str(out, item.as_ref());
    }
    out.push(b']');
}

/// `created` as Go's `time.Time.MarshalJSON` writes the same instant in UTC: RFC 3339 with up to
/// nine fraction digits, trailing zeros dropped, and `Z`.
fn go_utc_time(created: &str) -> Result<String, PluginError> {
    let bad = |why: String| {
        PluginError::Failed(format!(
            "creation time `{created}` cannot be written as a ModelPack `createdAt`: {why}"
        ))
    };
    let timestamp: jiff::Timestamp = created
        .parse()
        .map_err(|e: jiff::Error| bad(format!("not an RFC 3339 time ({e})")))?;
    let utc = timestamp.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let year = utc.year();
    if !(0..=9999).contains(&year) {
        return Err(bad(format!("year {year} is outside 0..=9999")));
    }
    let mut text = utc.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = utc.subsec_nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_is_written_as_go_writes_a_utc_time() {
        let t = |s: &str| go_utc_time(s).map_err(|e| e.to_string());
        assert_eq!(t("2023-11-14T22:13:20Z"), Ok("2023-11-14T22:13:20Z".into()));
        assert_eq!(t("1970-01-01T00:00:00Z"), Ok("1970-01-01T00:00:00Z".into()));
        assert_eq!(
            t("2023-11-14T22:13:20.120000Z"),
            Ok("2023-11-14T22:13:20.12Z".into())
        );
        assert_eq!(
            t("2023-11-14T23:13:20.000000001+01:00"),
            Ok("2023-11-14T22:13:20.000000001Z".into())
        );
        assert_eq!(t("0001-01-01T00:00:00Z"), Ok("0001-01-01T00:00:00Z".into()));
        assert!(t("yesterday").is_err());
        assert!(t("2023-11-14").is_err());
        assert!(t("-000001-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn licenses_are_sorted_by_bytes_and_deduplicated() {
        let yaml = "manifestVersion: 1.0.0\npackage:\n  license: b\nmodel:\n  path: m\n  license: B\n  parts:\n    - path: p\n      license: a\n    - path: q\ncode:\n  - path: c\n    license: b\n";
        let kitfile = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").expect("valid Kitfile");
        assert_eq!(licenses(&kitfile), vec!["B", "a", "b"]);
    }
}
