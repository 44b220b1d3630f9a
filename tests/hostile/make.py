#!/usr/bin/env python3
"""Writes the hostile layers (tars) and Kitfiles of this folder. Run from anywhere:
    python3 tests/hostile/make.py
The files are committed; tests never run this script."""
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = os.path.join(HERE, "layers")
KITFILES = os.path.join(HERE, "kitfiles")


def info(name, kind=tarfile.REGTYPE, size=0, link="", mode=0o644):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.linkname, t.mode, t.mtime = kind, size, link, mode, 0
    return t


def tar(name, entries, fmt=tarfile.USTAR_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for entry, data in entries:
            t.addfile(entry, io.BytesIO(data) if data is not None else None)
    write(LAYERS, name, buf.getvalue())
    return buf.getvalue()


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def file(name, data=b"evil"):
    return info(name, size=len(data)), data


def header_block(name, type_flag, size, data=b""):
    """A raw ustar header (for what tarfile refuses to write), plus its padded data."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156] = type_flag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h) + data + b"\0" * (-len(data) % 512)


def main():
    tar("absolute-name.tar", [file("/tmp/mkbuild-hostile-absolute")])
    tar("parent-dir.tar", [file("../escaped")])
    tar("nested-parent.tar", [file("w/../../escaped")])
    tar("symlink-out.tar", [(info("link", tarfile.SYMTYPE, link="/etc"), None)])
    tar("symlink-then-write.tar", [(info("link", tarfile.SYMTYPE, link=".."), None), file("link/escaped")])
    tar("hardlink-out.tar", [(info("h", tarfile.LNKTYPE, link="/etc/passwd"), None)])
    tar("char-device.tar", [(info("null", tarfile.CHRTYPE), None)])
    tar("block-device.tar", [(info("sda", tarfile.BLKTYPE), None)])
    tar("fifo.tar", [(info("pipe", tarfile.FIFOTYPE), None)])
    tar("duplicate-entry.tar", [file("w.bin", b"one"), file("w.bin", b"two")])
    tar("control-char-name.tar", [file("a\x01b")])
    # PAX path records: one holding NUL, one whose length field lies.
    tar("nul-in-pax-path.tar", [file("a\0b" + "x" * 120)], fmt=tarfile.PAX_FORMAT)
    bad_record = b"99 path=short\n"
    write(LAYERS, "malformed-pax.tar",
          header_block(b"pax", ord("x"), len(bad_record), bad_record)
          + header_block(b"w.bin", ord("0"), 4, b"evil") + b"\0" * 1024)
    whole = tar("truncated.tar", [file("w.bin", b"x" * 5000)])
    write(LAYERS, "truncated.tar", whole[:512 + 2048])
    write(LAYERS, "empty.tar", b"")

    write(KITFILES, "alias-bomb.yaml", alias_bomb())
    write(KITFILES, "deep-flow.yaml", b"manifestVersion: 1.0.0\npackage: " + b"[" * 100000 + b"\n")
    # Under `model.parameters`, which takes any YAML: only the depth can stop it.
    deep = b"manifestVersion: 1.0.0\nmodel:\n path: w.bin\n parameters:\n" + b"".join(
        b" " * (i + 2) + b"k:\n" for i in range(300))
    write(KITFILES, "deep-block.yaml", deep)
    write(KITFILES, "nul-byte.yaml", b"manifestVersion: 1.0.0\npackage:\n  name: a\0b\nmodel:\n  path: w.bin\n")
    write(KITFILES, "control-char-path.yaml",
          b'manifestVersion: 1.0.0\npackage:\n  name: ctl\nmodel:\n  path: "w\\x01.bin"\n')


def alias_bomb():
    """Ten levels of ten aliases each: 10^10 nodes once expanded."""
    # Under `model.parameters`, which takes any YAML: only the expansion limit can stop it.
    lines = ["manifestVersion: 1.0.0", "model:", "  path: w.bin", "  parameters:", "    a0: &a0 lol"]
    for level in range(1, 11):
        refs = ", ".join(["*a%d" % (level - 1)] * 10)
        lines.append("    a%d: &a%d [%s]" % (level, level, refs))
    return ("\n".join(lines) + "\n").encode()


if __name__ == "__main__":
    main()
