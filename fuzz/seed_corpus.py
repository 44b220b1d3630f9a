#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/) from real inputs of the
repository: Kitfiles (examples, kit's test data, hostile ones), the format specs, the manifests,
configs, Kitfile layers and small layer tars of the kit-made stores of tests/fixtures/kit-made.
File names are the sha1 of the content, as libFuzzer names what it adds. Run from anywhere;
rerun after those inputs change (the corpus is committed, kept well under 1 MB)."""
import hashlib, json, pathlib, re, shutil

repo = pathlib.Path(__file__).resolve().parent.parent
out = repo / "fuzz" / "corpus"
MAX = 64 * 1024  # the -max_len CI uses

corpus = {t: [] for t in ("kitfile_yaml", "spec_toml", "manifest_config", "unpack_tar")}
corpus["kitfile_yaml"].append((repo / "examples/sample/Kitfile").read_bytes())
for f in sorted((repo / "tests/fixtures/kit-testdata").glob("*.yaml")):
    # The `kitfile: |` block of kit's test cases, unindented.
    m = re.search(r"^kitfile: \|\n((?:  .*\n|\n)+)", f.read_text(), re.M)
    if m:
        corpus["kitfile_yaml"].append(re.sub(r"^  ", "", m.group(1), flags=re.M).encode())
for f in sorted((repo / "tests/hostile/kitfiles").iterdir()):
    corpus["kitfile_yaml"].append(f.read_bytes())
for f in sorted(repo.glob("spec/*/format.toml")) + [repo / "examples/acme/format.toml"]:
    corpus["spec_toml"].append(f.read_bytes())
for f in sorted((repo / "tests/hostile/layers").glob("*.tar")):
    corpus["unpack_tar"].append(f.read_bytes())
for store in sorted((repo / "tests/fixtures/kit-made").iterdir()):
    if not (store / "index.json").is_file():
        continue
    blob = lambda d: (store / "blobs/sha256" / d.split(":", 1)[1]).read_bytes()
    for m in json.loads((store / "index.json").read_text())["manifests"]:
        manifest = blob(m["digest"])
        corpus["manifest_config"].append(manifest)
        manifest = json.loads(manifest)
        corpus["manifest_config"].append(blob(manifest["config"]["digest"]))
        for layer in manifest["layers"]:
            data = blob(layer["digest"])
            if layer["mediaType"].endswith("+yaml"):
                corpus["kitfile_yaml"].append(data)
            elif layer["mediaType"].endswith(".tar") and len(data) <= 16 * 1024:
                corpus["unpack_tar"].append(data)

shutil.rmtree(out, ignore_errors=True)
for target, inputs in corpus.items():
    (out / target).mkdir(parents=True)
    for data in inputs:
        if 0 < len(data) <= MAX:
            (out / target / hashlib.sha1(data).hexdigest()).write_bytes(data)
