//! An SPDX 2.3 software bill of materials (JSON) for a ModelKit.
//!
//! The document describes the ModelKit as a package (its manifest digest as a checksum and an
//! OCI package URL), which contains one package per Kitfile entry - the model, its parts, each
//! dataset, code folder, docs folder and prompt - with the entry's declared license, and each
//! entry contains the files `unpack` writes for it, with their SHA-1 (which SPDX 2.3 requires) and
//! SHA-256. The Kitfile itself, and any file no entry names, belong to a package of their own.
//!
//! Licenses: a Kitfile license that is a valid SPDX expression is written as it is; any other
//! text becomes a `LicenseRef-` with the text kept in `hasExtractedLicensingInfos`; none is
//! `NOASSERTION`. Nothing in the document depends on the time but `created`, which the caller
//! gives (from `SOURCE_DATE_EPOCH`, for reproducible documents).

use std::collections::BTreeMap;

use mkbuild_kitfile::Kitfile;
use serde_json::{json, Value};
use sha1::{Digest as _, Sha1};

/// A file of the unpacked ModelKit and its digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// The path relative to the unpacked folder, `/`-separated.
    pub path: String,
    /// SHA-1, lowercase hex.
    pub sha1: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// What the document is made from.
#[derive(Debug, Clone)]
pub struct Sbom<'a> {
    /// The ModelKit's Kitfile.
    pub kitfile: &'a Kitfile,
    /// The manifest digest, `sha256:<hex>`.
    pub manifest_digest: &'a str,
    /// Every file `unpack` writes, the Kitfile included.
    pub files: &'a [FileDigests],
    /// The creation time, RFC 3339 in UTC (`2026-12-02T10:00:00Z`).
    pub created: &'a str,
    /// The tool, as SPDX's `creators` names it (`mkbuild-0.1.0`).
    pub tool: &'a str,
}

/// A package for one Kitfile entry, before its files are known.
struct Entry {
    id: String,
    name: String,
    path: String,
    license: String,
    description: String,
    purpose: &'static str,
}

impl Sbom<'_> {
    /// The SPDX 2.3 document, as JSON.
    pub fn to_json(&self) -> Value {
        let mut extracted = BTreeMap::new();
        let entries = self.entries();
        let hex = self
            .manifest_digest
            .strip_prefix("sha256:")
            .unwrap_or(self.manifest_digest);
        let name = if self.kitfile.package.name.is_empty() {
            "modelkit"
        } else {
            &self.kitfile.package.name
        };

        // Each file goes to the entry with the longest path that holds it; the rest (the
        // Kitfile) to a package of their own.
        let mut owned: Vec<Vec<(usize, &FileDigests)>> = vec![Vec::new(); entries.len() + 1];
        for (n, file) in self.files.iter().enumerate() {
            let owner = entries
                .iter()
                .enumerate()
                .filter(|(_, e)| holds(&e.path, &file.path))
                .max_by_key(|(_, e)| e.path.len())
                .map_or(entries.len(), |(i, _)| i);
            owned[owner].push((n, file));
        }

        let mut packages = vec![json!({
            "SPDXID": "SPDXRef-ModelKit",
            "name": name,
            "versionInfo": non_empty(&self.kitfile.package.version),
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": license(&self.kitfile.package.license, &mut extracted),
            "copyrightText": "NOASSERTION",
            "description": non_empty(&self.kitfile.package.description),
            "checksums": [{ "algorithm": "SHA256", "checksumValue": hex }],
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": format!("pkg:oci/{}@sha256%3A{hex}", purl_name(name)),
            }],
            "primaryPackagePurpose": "CONTAINER",
        })];
        let mut relationships = vec![json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-ModelKit",
        })];
        let kitfile_package = Entry {
            id: "SPDXRef-Kitfile".to_owned(),
            name: "Kitfile".to_owned(),
            path: String::new(),
            license: String::new(),
            description: "the Kitfile, and files no Kitfile entry names".to_owned(),
            purpose: "OTHER",
        };
        for (entry, files) in entries.iter().chain([&kitfile_package]).zip(&owned) {
            if entry.id == kitfile_package.id && files.is_empty() {
                continue;
            }
            let mut package = json!({
                "SPDXID": entry.id,
                "name": entry.name,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": !files.is_empty(),
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": license(&entry.license, &mut extracted),
                "copyrightText": "NOASSERTION",
                "primaryPackagePurpose": entry.purpose,
            });
            if !entry.description.is_empty() {
                package["description"] = json!(entry.description);
            }
            if !files.is_empty() {
                package["packageVerificationCode"] =
                    json!({ "packageVerificationCodeValue": verification_code(files) });
            }
            packages.push(package);
            relationships.push(json!({
                "spdxElementId": "SPDXRef-ModelKit",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": entry.id,
            }));
            for (n, _) in files {
                relationships.push(json!({
                    "spdxElementId": entry.id,
                    "relationshipType": "CONTAINS",
                    "relatedSpdxElement": format!("SPDXRef-File-{n}"),
                }));
            }
        }

        let files: Vec<Value> = self
            .files
            .iter()
            .enumerate()
            .map(|(n, file)| {
                json!({
                    "SPDXID": format!("SPDXRef-File-{n}"),
                    "fileName": format!("./{}", file.path),
                    "checksums": [
                        { "algorithm": "SHA1", "checksumValue": file.sha1 },
                        { "algorithm": "SHA256", "checksumValue": file.sha256 },
                    ],
                    "licenseConcluded": "NOASSERTION",
                    "copyrightText": "NOASSERTION",
                })
            })
            .collect();
        let mut document = json!({
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": name,
            "documentNamespace": format!(
                "https://spdx.mkbuild.dev/modelkits/{}-{hex}",
                purl_name(name)
            ),
            "creationInfo": {
                "created": self.created,
                "creators": [format!("Tool: {}", self.tool)],
            },
            "packages": packages,
            "files": files,
            "relationships": relationships,
        });
        strip_nulls(&mut document);
        if !extracted.is_empty() {
            document["hasExtractedLicensingInfos"] = extracted
                .into_iter()
                .map(|(id, text)| json!({ "licenseId": id, "extractedText": text, "name": text }))
                .collect();
        }
        document
    }

    /// A package per Kitfile entry, in the Kitfile's order.
    fn entries(&self) -> Vec<Entry> {
        let k = self.kitfile;
        let mut entries = Vec::new();
        if let Some(model) = &k.model {
            entries.push(Entry {
                id: "SPDXRef-Model".to_owned(),
                name: first_of(&model.name, &model.path),
                path: clean(&model.path),
                license: model.license.clone(),
                description: model.description.clone(),
                purpose: "OTHER",
            });
            for (i, part) in model.parts.iter().enumerate() {
                entries.push(Entry {
                    id: format!("SPDXRef-ModelPart-{i}"),
                    name: first_of(&part.name, &part.path),
                    path: clean(&part.path),
                    license: part.license.clone(),
                    description: String::new(),
                    purpose: "OTHER",
                });
            }
        }
        for (i, dataset) in k.datasets.iter().enumerate() {
            entries.push(Entry {
                id: format!("SPDXRef-Dataset-{i}"),
                name: first_of(&dataset.name, &dataset.path),
                path: clean(&dataset.path),
                license: dataset.license.clone(),
                description: dataset.description.clone(),
                purpose: "OTHER",
            });
        }
        for (i, code) in k.code.iter().enumerate() {
            entries.push(Entry {
                id: format!("SPDXRef-Code-{i}"),
                name: code.path.clone(),
                path: clean(&code.path),
                license: code.license.clone(),
                description: code.description.clone(),
                purpose: "SOURCE",
            });
        }
        for (i, docs) in k.docs.iter().enumerate() {
            entries.push(Entry {
                id: format!("SPDXRef-Docs-{i}"),
                name: docs.path.clone(),
                path: clean(&docs.path),
                license: String::new(),
                description: docs.description.clone(),
                purpose: "OTHER",
            });
        }
        for (i, prompt) in k.prompts.iter().enumerate() {
            entries.push(Entry {
                id: format!("SPDXRef-Prompt-{i}"),
                name: first_of(&prompt.name, &prompt.path),
                path: clean(&prompt.path),
                license: String::new(),
                description: prompt.description.clone(),
                purpose: "OTHER",
            });
        }
        entries
    }
}

/// Whether the entry at `entry` (a file or a folder; empty names nothing) holds `file`.
fn holds(entry: &str, file: &str) -> bool {
    !entry.is_empty()
        && (entry == "."
            || file == entry
            || file
                .strip_prefix(entry)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// A Kitfile path as unpack writes it: no `./`, no trailing `/`.
fn clean(path: &str) -> String {
    let path = path.trim_end_matches('/');
    path.strip_prefix("./").unwrap_or(path).to_owned()
}

fn first_of(name: &str, path: &str) -> String {
    if name.is_empty() {
        path.to_owned()
    } else {
        name.to_owned()
    }
}

fn non_empty(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        json!(text)
    }
}

/// A declared license as SPDX writes it (see the module).
fn license(text: &str, extracted: &mut BTreeMap<String, String>) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "NOASSERTION".to_owned();
    }
    if spdx::Expression::parse(text).is_ok() {
        return text.to_owned();
    }
    let id: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id = format!("LicenseRef-{id}");
    extracted.insert(id.clone(), text.to_owned());
    id
}

/// A package URL name: lowercase, only what a purl name allows unescaped.
fn purl_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// SPDX's package verification code: SHA-1 of the sorted SHA-1s of the package's files.
fn verification_code(files: &[(usize, &FileDigests)]) -> String {
    let mut sums: Vec<&str> = files.iter().map(|(_, f)| f.sha1.as_str()).collect();
    sums.sort_unstable();
    hex::encode(Sha1::digest(sums.concat().as_bytes()))
}

/// Removes the `null` fields (optional ones the Kitfile left empty).
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The digests of the file `path` whose bytes `data` reads, in one pass.
pub fn digest_file(path: &str, mut data: impl std::io::Read) -> std::io::Result<FileDigests> {
    let mut sha1 = Sha1::new();
    let mut sha256 = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match data.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha1.update(&buffer[..n]);
        sha256.update(&buffer[..n]);
    }
    Ok(FileDigests {
        path: path.to_owned(),
        sha1: hex::encode(sha1.finalize()),
        sha256: hex::encode(sha256.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_are_expressions_as_written_else_extracted_references() {
        let mut extracted = BTreeMap::new();
        assert_eq!(license("", &mut extracted), "NOASSERTION");
        assert_eq!(license("MIT", &mut extracted), "MIT");
        assert_eq!(
            license("Apache-2.0 OR MIT", &mut extracted),
            "Apache-2.0 OR MIT"
        );
        assert_eq!(
            license("our terms, v2", &mut extracted),
            "LicenseRef-our-terms--v2"
        );
        assert_eq!(
            extracted
                .get("LicenseRef-our-terms--v2")
                .map(String::as_str),
            Some("our terms, v2")
        );
    }

    #[test]
    fn an_entry_holds_its_file_or_what_is_under_its_folder() {
        assert!(holds("data", "data/train.csv"));
        assert!(holds("model.bin", "model.bin"));
        assert!(!holds("data", "database.csv"));
        assert!(!holds("", "Kitfile"));
        assert!(holds(".", "anything"));
    }

    #[test]
    fn the_verification_code_is_sha1_of_the_sorted_sha1s() {
        let a = digest_file("a", &b"a"[..]).expect("digest");
        let b = digest_file("b", &b"b"[..]).expect("digest");
        let mut sums = [a.sha1.clone(), b.sha1.clone()];
        sums.sort();
        let want = hex::encode(Sha1::digest(sums.concat().as_bytes()));
        assert_eq!(verification_code(&[(1, &b), (0, &a)]), want);
    }
}
