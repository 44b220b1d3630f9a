//! `mkbuild init [DIR]`: a Kitfile for a folder, from the files it holds, by the rules of kit's
//! `init` (`pkg/lib/kitfile/generate`): weights by extension make the model (several: the largest
//! when it stands out, else the first, the rest parts), metadata files (`.json`, `.yaml`, ...)
//! become parts of a model or else datasets, README and LICENSE files docs, `docs` folders docs,
//! `src`/`pkg`/`lib`/`build` code, a folder of one kind that kind, and anything else code (one
//! entry `.` for loose files, which pack packs without the files the other entries hold).
//!
//! Unlike kit, hidden files and folders (`.git`, `.venv`, `.kitignore`) are left out, links are
//! neither followed nor described, and nothing is asked on a terminal.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _};
use mkbuild_engine::DEFAULT_KITFILE_NAMES;
use mkbuild_kitfile::{Code, Dataset, Docs, Kitfile, Model, ModelPart, MANIFEST_VERSION};

use crate::cli::{GlobalArgs, InitArgs};
use crate::output::outln;

/// kit's `modelWeightsSuffixes`.
const MODEL_SUFFIXES: &[&str] = &[
    ".safetensors",
    ".pkl",
    ".joblib",
    ".bin",
    ".pth",
    ".pt",
    ".mar",
    ".pt2",
    ".ptl",
    ".pb",
    ".ckpt",
    ".tflite",
    ".tfrecords",
    ".npy",
    ".npz",
    ".keras",
    ".h5",
    ".caffemodel",
    ".pmml",
    ".coreml",
    ".gguf",
    ".ggml",
    ".ggmf",
    ".llamafile",
    ".onnx",
];
/// kit's `metadataSuffixes`.
const METADATA_SUFFIXES: &[&str] = &[".json", ".yaml", ".xml", ".txt"];
/// kit's `docsSuffixes`.
const DOCS_SUFFIXES: &[&str] = &[".md", ".adoc", ".html", ".pdf"];
/// kit's `datasetSuffixes`.
const DATASET_SUFFIXES: &[&str] = &[".tar", ".zip", ".parquet", ".csv"];
/// More folders than this that fit no kind become one code entry `.` instead of one each (kit's
/// rule).
const MAX_CODE_FOLDERS: usize = 5;
/// A LICENSE file read to find its license, at most.
const MAX_LICENSE_BYTES: u64 = 256 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileType {
    Model,
    Dataset,
    Docs,
    Metadata,
    Unknown,
}

fn file_type(name: &str) -> FileType {
    let has = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if has(MODEL_SUFFIXES) {
        FileType::Model
    } else if has(METADATA_SUFFIXES) {
        FileType::Metadata
    } else if has(DOCS_SUFFIXES) {
        FileType::Docs
    } else if has(DATASET_SUFFIXES) {
        FileType::Dataset
    } else {
        FileType::Unknown
    }
}

/// A regular file found, its path relative to the folder (`/`-separated) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
struct File {
    name: String,
    path: String,
    size: u64,
}

/// A folder's regular files and subfolders, sorted by name as Go's `os.ReadDir` returns them;
/// links, devices and hidden entries are skipped.
struct Listing {
    files: Vec<File>,
    folders: Vec<String>,
}

fn list(dir: &Path, prefix: &str) -> anyhow::Result<Listing> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .with_context(|| format!("cannot list the folder `{}`", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list the folder `{}`", dir.display()))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    let mut listing = Listing {
        files: Vec::new(),
        folders: Vec::new(),
    };
    for entry in entries {
        // A name that is not UTF-8 cannot be written in a Kitfile.
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            tracing::warn!(
                "`{}` is left out: its name is not UTF-8",
                entry.path().display()
            );
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // The entry itself, not what a link points to.
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot inspect `{}`", entry.path().display()))?;
        let path = format!("{prefix}{name}");
        if kind.is_dir() {
            listing.folders.push(path);
        } else if kind.is_file() {
            let size = entry
                .metadata()
                .with_context(|| format!("cannot inspect `{}`", entry.path().display()))?
                .len();
            listing.files.push(File { name, path, size });
        }
    }
    Ok(listing)
}

pub fn run(global: &GlobalArgs, args: InitArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    if !dir.is_dir() {
        bail!(
            "`{}` is not a folder; give the folder to write a Kitfile for",
            dir.display()
        );
    }
    let existing = DEFAULT_KITFILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.symlink_metadata().is_ok());
    if let Some(path) = &existing {
        if !args.force {
            bail!("`{}` exists already; `--force` replaces it", path.display());
        }
    }
    let kitfile = generate(dir, &args)?;
    let yaml = kitfile.to_yaml()?;
    // What was written must be what pack reads back.
    Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").context("the generated Kitfile is not valid")?;
    let path = existing.unwrap_or_else(|| dir.join("Kitfile"));
    write_replacing(&path, yaml.as_bytes())?;
    outln!("{}", yaml.trim_end())?;
    crate::output::summary(
        global,
        format_args!(
            "wrote `{}`; check it, then `mkbuild pack {} -t NAME:TAG`",
            path.display(),
            dir.display()
        ),
    );
    Ok(())
}

/// Writes `bytes` to `path` by a temporary file renamed over it: a link at `path` is replaced,
/// never followed, and a failure leaves the old file whole.
fn write_replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(".Kitfile.mkbuild-{}.tmp", std::process::id()));
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        // `create_new`: never opens (or follows) anything already there.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(anyhow::Error::new(e).context(format!("cannot write `{}`", path.display())));
    }
    Ok(())
}

/// kit's `GenerateKitfile`, over the folder's listing.
fn generate(dir: &Path, args: &InitArgs) -> anyhow::Result<Kitfile> {
    let mut kitfile = Kitfile {
        manifest_version: MANIFEST_VERSION.to_owned(),
        ..Kitfile::default()
    };
    kitfile.package.name = args.name.clone().unwrap_or_default();
    kitfile.package.description = args.description.clone().unwrap_or_default();
    kitfile.package.authors = args.author.iter().cloned().collect();

    let top = list(dir, "")?;
    let mut catch_all = false;
    let mut unprocessed_folders = Vec::new();
    let mut model_files = Vec::new();
    let mut metadata_files = Vec::new();
    let mut license = None;
    for file in &top.files {
        if DEFAULT_KITFILE_NAMES.contains(&file.name.as_str()) {
            continue;
        }
        let lower = file.name.to_lowercase();
        if lower.starts_with("readme") {
            kitfile.docs.push(docs(&file.path, "Readme file"));
            continue;
        }
        if lower.starts_with("license") {
            kitfile.docs.push(docs(&file.path, "License file"));
            license = detect_license(&dir.join(&file.name));
            continue;
        }
        match file_type(&file.path) {
            FileType::Model => model_files.push(file.clone()),
            FileType::Metadata => metadata_files.push(file.clone()),
            FileType::Docs => kitfile.docs.push(docs(&file.path, "")),
            FileType::Dataset => kitfile.datasets.push(dataset(&file.path)),
            FileType::Unknown => catch_all = true,
        }
    }
    for folder in &top.folders {
        match classify_folder(&dir.join(folder), folder)? {
            Folder::Docs => kitfile.docs.push(docs(folder, "")),
            Folder::Code => kitfile.code.push(code(folder)),
            Folder::Dataset => kitfile.datasets.push(dataset(folder)),
            Folder::Model(files) => model_files.extend(files),
            Folder::Unknown(files) => {
                model_files.extend(files);
                unprocessed_folders.push(folder.clone());
            }
        }
    }
    if model_files.is_empty() {
        kitfile
            .datasets
            .extend(metadata_files.iter().map(|f| dataset(&f.path)));
    } else {
        let mut model = model_of(&model_files);
        model
            .parts
            .extend(metadata_files.iter().map(|f| part(&f.path)));
        kitfile.model = Some(model);
    }
    if catch_all || unprocessed_folders.len() > MAX_CODE_FOLDERS {
        // One entry for everything else replaces the code entries found so far, as in kit.
        kitfile.code = vec![code(".")];
    } else {
        kitfile
            .code
            .extend(unprocessed_folders.iter().map(|f| code(f)));
    }
    if let Some(license) = license {
        if let Some(model) = &mut kitfile.model {
            model.license = license;
        } else if let [only] = kitfile.datasets.as_mut_slice() {
            only.license = license;
        } else if let [only] = kitfile.code.as_mut_slice() {
            only.license = license;
        } else {
            kitfile.package.license = license;
        }
    }
    Ok(kitfile)
}

/// What a subfolder holds, by kit's `addDirToKitfile`.
enum Folder {
    Docs,
    Code,
    Dataset,
    /// Weights (and their metadata files), to join the model.
    Model(Vec<File>),
    /// Mixed or unknown: a code entry of its own; its weights still join the model.
    Unknown(Vec<File>),
}

fn classify_folder(path: &Path, rel: &str) -> anyhow::Result<Folder> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name {
        "docs" => return Ok(Folder::Docs),
        "src" | "pkg" | "lib" | "build" => return Ok(Folder::Code),
        _ => {}
    }
    let listing = list(path, &format!("{rel}/"))?;
    let mut kinds: Vec<FileType> = Vec::new();
    if !listing.folders.is_empty() {
        // Deeper folders are not looked into: they count as unknown, as in kit.
        kinds.push(FileType::Unknown);
    }
    let mut model_files = Vec::new();
    let mut metadata_files = Vec::new();
    for file in &listing.files {
        match file_type(&file.name) {
            FileType::Model => model_files.push(file.clone()),
            FileType::Metadata => metadata_files.push(file.clone()),
            other => kinds.push(other),
        }
    }
    if !model_files.is_empty() {
        kinds.push(FileType::Model);
    }
    kinds.sort();
    kinds.dedup();
    Ok(match kinds.as_slice() {
        [FileType::Model] => {
            model_files.extend(metadata_files);
            Folder::Model(model_files)
        }
        [FileType::Dataset] => Folder::Dataset,
        [FileType::Docs] => Folder::Docs,
        _ => Folder::Unknown(model_files),
    })
}

/// kit's `addModelToKitfile`: one file is the model (named by its path without extension);
/// of several, the largest when it is more than 1.5 times the average (an adapter beside its
/// base), else the first in name order (shards), the others parts.
fn model_of(files: &[File]) -> Model {
    let named = |file: &File| Model {
        path: file.path.clone(),
        name: file
            .path
            .rsplit_once('.')
            .map_or(file.path.as_str(), |(stem, _)| stem)
            .to_owned(),
        ..Model::default()
    };
    let parts_but = |main: &File| -> Vec<ModelPart> {
        files
            .iter()
            .filter(|f| *f != main)
            .map(|f| part(&f.path))
            .collect()
    };
    match files {
        [] => Model::default(),
        [only] => named(only),
        [first, ..] => {
            let count = files.len() as u64;
            let total = files.iter().fold(0u64, |sum, f| sum.saturating_add(f.size));
            let average = total / count;
            // The first of equally large files, as Go's `>` keeps the first.
            let largest = files
                .iter()
                .fold(first, |big, f| if f.size > big.size { f } else { big });
            if largest.size > average.saturating_add(average / 2) {
                Model {
                    parts: parts_but(largest),
                    ..named(largest)
                }
            } else {
                Model {
                    path: first.path.clone(),
                    parts: parts_but(first),
                    ..Model::default()
                }
            }
        }
    }
}

fn docs(path: &str, description: &str) -> Docs {
    Docs {
        path: path.to_owned(),
        description: description.to_owned(),
        ..Docs::default()
    }
}

fn code(path: &str) -> Code {
    Code {
        path: path.to_owned(),
        ..Code::default()
    }
}

fn dataset(path: &str) -> Dataset {
    Dataset {
        path: path.to_owned(),
        ..Dataset::default()
    }
}

fn part(path: &str) -> ModelPart {
    ModelPart {
        path: path.to_owned(),
        ..ModelPart::default()
    }
}

/// The SPDX identifier of a few licenses whose text says so unmistakably; kit runs a full
/// license classifier, this recognises only these and leaves the rest unnamed.
fn detect_license(path: &Path) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_LICENSE_BYTES), &mut text)
        .ok()?;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let id = if text.contains("Apache License") && text.contains("Version 2.0") {
        "Apache-2.0"
    } else if text.contains("Permission is hereby granted, free of charge") {
        "MIT"
    } else if text.contains("GNU GENERAL PUBLIC LICENSE") && text.contains("Version 3") {
        "GPL-3.0"
    } else if text.contains("Mozilla Public License Version 2.0") {
        "MPL-2.0"
    } else if text.contains("Redistribution and use in source and binary forms")
        && text.contains("Neither the name")
    {
        "BSD-3-Clause"
    } else {
        return None;
    };
    Some(id.to_owned())
}
