use std::io::{self, Write};

/// How layer tars are compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed: plain tar.
    #[default]
    None,
    /// gzip at the default level (6), as Go's `gzip.NewWriter`.
    Gzip,
    /// gzip at level 1; the media type still says `+gzip`, as kit's does.
    GzipFastest,
    /// zstd at its default level (3).
    Zstd,
}

impl Compression {
    /// What the layer media type gets appended.
    pub fn media_type_suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip | Compression::GzipFastest => "+gzip",
            Compression::Zstd => "+zstd",
        }
    }

    /// The compression a layer media type's suffix (`""`, `+gzip`, `+zstd`) names.
    pub fn from_suffix(suffix: &str) -> Option<Compression> {
        match suffix {
            "" => Some(Compression::None),
            "+gzip" => Some(Compression::Gzip),
            "+zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// Wraps `inner` in this compression's encoder.
    pub fn writer<W: Write>(self, inner: W) -> io::Result<Compressor<W>> {
        Ok(match self {
            Compression::None => Compressor::None(inner),
            Compression::Gzip => Compressor::Gzip(flate2::write::GzEncoder::new(
                inner,
                flate2::Compression::new(6),
            )),
            Compression::GzipFastest => Compressor::Gzip(flate2::write::GzEncoder::new(
                inner,
                flate2::Compression::fast(),
            )),
            Compression::Zstd => Compressor::Zstd(zstd::Encoder::new(inner, 3)?),
        })
    }
}

impl std::str::FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "gzip-fastest" => Ok(Compression::GzipFastest),
            "zstd" => Ok(Compression::Zstd),
            other => Err(format!(
                "unknown compression `{other}` (expected none, gzip, gzip-fastest or zstd)"
            )),
        }
    }
}

/// A writer that compresses (or not) into `W`.
pub enum Compressor<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::Encoder<'static, W>),
}

impl<W: Write> Compressor<W> {
    /// Ends the compressed stream and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Compressor::None(w) => Ok(w),
            Compressor::Gzip(e) => e.finish(),
            Compressor::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::None(w) => w.write(buf),
            Compressor::Gzip(e) => e.write(buf),
            Compressor::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::None(w) => w.flush(),
            Compressor::Gzip(e) => e.flush(),
            Compressor::Zstd(e) => e.flush(),
        }
    }
}
