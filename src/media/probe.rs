//! What an upload is, read from its first bytes: the type ([`sniff`]) and, for images, the
//! displayed size from the header ([`probe`]), never by decoding pixels.
//!
//! Every read goes through [`Bytes`], whose accessors return `None` past the end, so a
//! truncated or hostile header is an error, never a panic; every loop advances by at least
//! one byte or one box and is bounded by the input's length or [`MAX_BOXES`]. Sizes are
//! checked against [`MAX_DIMENSION`] before anything uses them.

use super::MediaType;

/// The largest width or height accepted, in pixels: JPEG's own limit (16-bit sizes). The
/// variants never decode more than [`super::variant::MAX_VARIANT_PIXELS`] anyway.
pub const MAX_DIMENSION: u32 = 65_535;

/// Most ISOBMFF boxes (AVIF) or JPEG segments looked at before giving up.
pub const MAX_BOXES: usize = 1_024;

/// The displayed size of an image (after its EXIF orientation, for a JPEG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dims {
    pub width: u32,
    pub height: u32,
}

/// What an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub media_type: MediaType,
    /// `None` for a PDF.
    pub dims: Option<Dims>,
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// SVG (it can carry script): 415.
    Svg,
    /// Not one of the accepted types: 415.
    Unknown,
    /// The declared `Content-Type` is not the type the bytes are: 415.
    Mismatch {
        declared: String,
        sniffed: MediaType,
    },
    /// No or an unaccepted `Content-Type`: 415.
    Declared(String),
    /// The type is known but its header cannot be read: 422.
    BadHeader(MediaType, &'static str),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::Svg => write!(f, "SVG is not accepted (it can carry script)"),
            ProbeError::Unknown => write!(
                f,
                "the file is not a JPEG, PNG, GIF, WebP, AVIF or PDF (sniffed from its bytes)"
            ),
            ProbeError::Mismatch { declared, sniffed } => write!(
                f,
                "declared as {declared} but the bytes are {}",
                sniffed.mime()
            ),
            ProbeError::Declared(declared) if declared.is_empty() => write!(
                f,
                "send the file's Content-Type (image/jpeg, image/png, image/gif, image/webp, image/avif or application/pdf)"
            ),
            ProbeError::Declared(declared) => write!(
                f,
                "Content-Type {declared} is not accepted (image/jpeg, image/png, image/gif, image/webp, image/avif or application/pdf)"
            ),
            ProbeError::BadHeader(t, why) => write!(f, "the {} header is unreadable: {why}", t.name()),
        }
    }
}

/// Bounds-checked big- and little-endian reads.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn slice(&self, at: usize, len: usize) -> Option<&'a [u8]> {
        self.0.get(at..at.checked_add(len)?)
    }
    fn u8(&self, at: usize) -> Option<u8> {
        self.0.get(at).copied()
    }
    fn be16(&self, at: usize) -> Option<u16> {
        let b = self.slice(at, 2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn le16(&self, at: usize) -> Option<u16> {
        let b = self.slice(at, 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }
    fn be32(&self, at: usize) -> Option<u32> {
        let b = self.slice(at, 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn le24(&self, at: usize) -> Option<u32> {
        let b = self.slice(at, 3)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }
    fn le32(&self, at: usize) -> Option<u32> {
        let b = self.slice(at, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn be64(&self, at: usize) -> Option<u64> {
        let b = self.slice(at, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_be_bytes(a))
    }
}

/// The type of `bytes` from its signature; SVG is recognised to be refused by name.
pub fn sniff(bytes: &[u8]) -> Result<MediaType, ProbeError> {
    let b = Bytes(bytes);
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(MediaType::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(MediaType::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(MediaType::Gif);
    }
    if starts(b"RIFF") && b.slice(8, 4) == Some(b"WEBP") {
        return Ok(MediaType::Webp);
    }
    if starts(b"%PDF-") {
        return Ok(MediaType::Pdf);
    }
    if b.slice(4, 4) == Some(b"ftyp") && is_avif_ftyp(&b) {
        return Ok(MediaType::Avif);
    }
    if looks_like_svg(bytes) {
        return Err(ProbeError::Svg);
    }
    Err(ProbeError::Unknown)
}

/// The `ftyp` box names `avif` or `avis` as its major or a compatible brand.
fn is_avif_ftyp(b: &Bytes) -> bool {
    let Some(size) = b.be32(0) else { return false };
    let end = (size as usize).min(b.0.len()).min(4_096);
    let mut at = 8;
    while at + 4 <= end {
        if matches!(b.slice(at, 4), Some(b"avif" | b"avis")) {
            return true;
        }
        // The minor version (at 12) is not a brand, but cannot spell one either way.
        at += 4;
    }
    false
}

/// Text that opens (after a BOM, whitespace and comments or an XML declaration) with `<svg`
/// or an SVG doctype, in its first kilobyte.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1_024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start();
    text.starts_with('<') && (text.contains("<svg") || text.contains("<!doctype svg"))
}

/// The accepted type a `Content-Type` header names (parameters and case ignored).
pub fn declared(content_type: Option<&str>) -> Result<MediaType, ProbeError> {
    let raw = content_type.unwrap_or("");
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    MediaType::from_mime(&essence)
        .ok_or_else(|| ProbeError::Declared(essence.chars().take(100).collect()))
}

/// The type and size of an upload declared as `content_type`: the type sniffed from the
/// bytes must be the declared one.
///
/// # Errors
/// [`ProbeError`]: SVG, an unknown type, a mismatch, or an unreadable header.
pub fn probe(bytes: &[u8], content_type: Option<&str>) -> Result<Probe, ProbeError> {
    let sniffed = sniff(bytes)?;
    let declared_type = declared(content_type)?;
    if declared_type != sniffed {
        return Err(ProbeError::Mismatch {
            declared: declared_type.mime().to_string(),
            sniffed,
        });
    }
    let dims = match sniffed {
        MediaType::Pdf => None,
        t => {
            let dims = dims(t, bytes).map_err(|why| ProbeError::BadHeader(t, why))?;
            if dims.width == 0 || dims.height == 0 {
                return Err(ProbeError::BadHeader(t, "a size of zero"));
            }
            if dims.width > MAX_DIMENSION || dims.height > MAX_DIMENSION {
                return Err(ProbeError::BadHeader(t, "larger than 65535 pixels a side"));
            }
            Some(dims)
        }
    };
    Ok(Probe {
        media_type: sniffed,
        dims,
    })
}

/// The displayed size of an image of type `t` from its header.
pub fn dims(t: MediaType, bytes: &[u8]) -> Result<Dims, &'static str> {
    let b = Bytes(bytes);
    let truncated = "truncated";
    let d = |w: u32, h: u32| Dims {
        width: w,
        height: h,
    };
    match t {
        MediaType::Png => {
            if b.slice(12, 4) != Some(b"IHDR") {
                return Err("no IHDR chunk first");
            }
            Ok(d(
                b.be32(16).ok_or(truncated)?,
                b.be32(20).ok_or(truncated)?,
            ))
        }
        MediaType::Gif => Ok(d(
            u32::from(b.le16(6).ok_or(truncated)?),
            u32::from(b.le16(8).ok_or(truncated)?),
        )),
        MediaType::Webp => webp(&b),
        MediaType::Jpeg => jpeg(&b),
        MediaType::Avif => avif(&b),
        MediaType::Pdf => Err("a PDF has no pixel size"),
    }
}

fn webp(b: &Bytes) -> Result<Dims, &'static str> {
    let truncated = "truncated";
    match b.slice(12, 4).ok_or(truncated)? {
        b"VP8 " => {
            // The key frame's start code, then 14-bit sizes (2 bits of scaling above).
            if b.slice(23, 3) != Some(&[0x9d, 0x01, 0x2a]) {
                return Err("no VP8 key frame");
            }
            Ok(Dims {
                width: u32::from(b.le16(26).ok_or(truncated)? & 0x3fff),
                height: u32::from(b.le16(28).ok_or(truncated)? & 0x3fff),
            })
        }
        b"VP8L" => {
            if b.u8(20) != Some(0x2f) {
                return Err("no VP8L signature");
            }
            let bits = b.le32(21).ok_or(truncated)?;
            Ok(Dims {
                width: (bits & 0x3fff) + 1,
                height: ((bits >> 14) & 0x3fff) + 1,
            })
        }
        b"VP8X" => Ok(Dims {
            width: b.le24(24).ok_or(truncated)? + 1,
            height: b.le24(27).ok_or(truncated)? + 1,
        }),
        _ => Err("an unknown first chunk"),
    }
}

/// Walks the JPEG's segments up to the first frame header (SOFn), noting the EXIF
/// orientation on the way (5-8 swap width and height, as browsers display it).
fn jpeg(b: &Bytes) -> Result<Dims, &'static str> {
    let truncated = "truncated before the frame header";
    let mut at = 2;
    let mut swap = false;
    for _ in 0..MAX_BOXES {
        if b.u8(at).ok_or(truncated)? != 0xFF {
            return Err("a segment does not start with 0xFF");
        }
        // Fill bytes: any number of 0xFF before the marker.
        while b.u8(at) == Some(0xFF) {
            at += 1;
        }
        let marker = b.u8(at).ok_or(truncated)?;
        at += 1;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return Err("no frame header before the image data"),
            _ => {}
        }
        let len = usize::from(b.be16(at).ok_or(truncated)?);
        if len < 2 {
            return Err("a segment shorter than its length field");
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let height = u32::from(b.be16(at + 3).ok_or(truncated)?);
            let width = u32::from(b.be16(at + 5).ok_or(truncated)?);
            return Ok(if swap {
                Dims {
                    width: height,
                    height: width,
                }
            } else {
                Dims { width, height }
            });
        }
        if marker == 0xE1 {
            if let Some(segment) = b.slice(at + 2, len - 2) {
                swap = matches!(exif_orientation(segment), Some(5..=8));
            }
        }
        at += len;
    }
    Err("too many segments before the frame header")
}

/// The orientation tag (0x0112) of IFD0 of an APP1 `Exif` segment's TIFF data.
pub fn exif_orientation(segment: &[u8]) -> Option<u16> {
    let tiff = segment.strip_prefix(b"Exif\0\0")?;
    let t = Bytes(tiff);
    let little = match t.slice(0, 2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| if little { t.le16(at) } else { t.be16(at) };
    let u32_at = |at: usize| if little { t.le32(at) } else { t.be32(at) };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(ifd)?);
    for i in 0..entries.min(MAX_BOXES) {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? == 0x0112 {
            return u16_at(entry + 8);
        }
    }
    None
}

/// One ISOBMFF box: its type and where its payload lies.
struct BoxAt {
    kind: [u8; 4],
    body: usize,
    end: usize,
}

/// The boxes in `start..end`, at most [`MAX_BOXES`].
fn boxes(b: &Bytes, start: usize, end: usize) -> Vec<BoxAt> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end && out.len() < MAX_BOXES {
        let (Some(size), Some(kind)) = (b.be32(at), b.slice(at + 4, 4)) else {
            break;
        };
        let (header, size) = match size {
            0 => (8, (end - at) as u64),
            1 => match b.be64(at + 8) {
                Some(large) => (16, large),
                None => break,
            },
            n => (8, u64::from(n)),
        };
        if size < header as u64 {
            break;
        }
        let box_end = (at as u64).saturating_add(size).min(end as u64) as usize;
        let mut k = [0u8; 4];
        k.copy_from_slice(kind);
        out.push(BoxAt {
            kind: k,
            body: at + header,
            end: box_end,
        });
        at = box_end;
    }
    out
}

/// The first `ispe` (image spatial extents) property in `meta/iprp/ipco`. For a plain AVIF
/// that is the primary image's; a grid's tiles may come first (documented in the README).
fn avif(b: &Bytes) -> Result<Dims, &'static str> {
    let find = |list: Vec<BoxAt>, kind: &[u8; 4]| list.into_iter().find(|x| &x.kind == kind);
    let len = b.0.len();
    let meta = find(boxes(b, 0, len), b"meta").ok_or("no meta box")?;
    // `meta` is a full box: 4 bytes of version and flags before its children.
    let iprp = find(boxes(b, meta.body + 4, meta.end), b"iprp").ok_or("no iprp box")?;
    let ipco = find(boxes(b, iprp.body, iprp.end), b"ipco").ok_or("no ipco box")?;
    let ispe = find(boxes(b, ipco.body, ipco.end), b"ispe").ok_or("no ispe property")?;
    let truncated = "truncated ispe";
    if ispe.body + 12 > ispe.end {
        return Err(truncated);
    }
    Ok(Dims {
        width: b.be32(ispe.body + 4).ok_or(truncated)?,
        height: b.be32(ispe.body + 8).ok_or(truncated)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0]);
        v
    }

    fn jpeg_with(orientation: Option<u16>, w: u16, h: u16) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        // APP0 JFIF
        v.extend_from_slice(&[0xFF, 0xE0, 0, 16]);
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        if let Some(o) = orientation {
            // APP1 Exif, big-endian TIFF, IFD0 with one entry.
            let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
            tiff.extend_from_slice(&[0, 1]); // one entry
            tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
            tiff.extend_from_slice(&o.to_be_bytes());
            tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            let mut seg = b"Exif\0\0".to_vec();
            seg.extend_from_slice(&tiff);
            let len = (seg.len() + 2) as u16;
            v.extend_from_slice(&[0xFF, 0xE1]);
            v.extend_from_slice(&len.to_be_bytes());
            v.extend_from_slice(&seg);
        }
        // SOF2 (progressive), with fill bytes before it.
        v.extend_from_slice(&[0xFF, 0xFF, 0xC2, 0, 17, 8]);
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        v.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        v
    }

    fn avif(w: u32, h: u32) -> Vec<u8> {
        fn bx(kind: &[u8], body: &[u8]) -> Vec<u8> {
            let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            v.extend_from_slice(kind);
            v.extend_from_slice(body);
            v
        }
        let mut ispe = vec![0, 0, 0, 0];
        ispe.extend_from_slice(&w.to_be_bytes());
        ispe.extend_from_slice(&h.to_be_bytes());
        let ipco = bx(
            b"ipco",
            &[bx(b"pixi", &[0; 5]), bx(b"ispe", &ispe)].concat(),
        );
        let iprp = bx(b"iprp", &ipco);
        let mut meta_body = vec![0, 0, 0, 0];
        meta_body.extend(bx(b"hdlr", &[0; 24]));
        meta_body.extend(iprp);
        [
            bx(b"ftyp", b"avif\0\0\0\0mif1avif"),
            bx(b"meta", &meta_body),
            bx(b"mdat", &[1, 2, 3]),
        ]
        .concat()
    }

    #[test]
    fn each_type_is_sniffed_and_sized() {
        let gif = [b"GIF89a".as_slice(), &[0x40, 0x01, 0xF0, 0x00, 0, 0, 0]].concat();
        let webp_lossy = [
            b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".as_slice(),
            &[0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01],
        ]
        .concat();
        // VP8L: 14 bits width-1 (99), 14 bits height-1 (49).
        let bits: u32 = 99 | (49 << 14);
        let webp_lossless = [
            b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".as_slice(),
            &bits.to_le_bytes(),
        ]
        .concat();
        let webp_x = [
            b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0".as_slice(),
            &[0, 0, 0, 0, 0x7f, 0x07, 0, 0x37, 0x04, 0],
        ]
        .concat();
        type Case<'a> = (Vec<u8>, &'a str, Option<(u32, u32)>);
        let cases: Vec<Case> = vec![
            (png(640, 480), "image/png", Some((640, 480))),
            (gif, "image/gif", Some((320, 240))),
            (webp_lossy, "image/webp", Some((640, 480))),
            (webp_lossless, "image/webp", Some((100, 50))),
            (webp_x, "image/webp", Some((1920, 1080))),
            (
                jpeg_with(None, 4032, 3024),
                "image/jpeg",
                Some((4032, 3024)),
            ),
            (
                jpeg_with(Some(1), 4032, 3024),
                "image/jpeg",
                Some((4032, 3024)),
            ),
            (
                jpeg_with(Some(6), 4032, 3024),
                "image/JPEG; q=1",
                Some((3024, 4032)),
            ),
            (avif(1200, 800), "image/avif", Some((1200, 800))),
            (b"%PDF-1.7\n%...".to_vec(), "application/pdf", None),
        ];
        for (bytes, mime, want) in cases {
            let p = probe(&bytes, Some(mime)).unwrap_or_else(|e| panic!("{mime}: {e}"));
            assert_eq!(
                p.dims.map(|d| (d.width, d.height)),
                want,
                "{mime} {:?}",
                p.media_type
            );
        }
    }

    #[test]
    fn refusals_name_their_reason() {
        assert_eq!(
            probe(&png(1, 1), Some("image/jpeg")),
            Err(ProbeError::Mismatch {
                declared: "image/jpeg".into(),
                sniffed: MediaType::Png
            })
        );
        for svg in [
            "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "\u{feff}  <?xml version='1.0'?>\n<!-- x --><svg/>",
            "<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' ''><svg/>",
        ] {
            assert_eq!(
                probe(svg.as_bytes(), Some("image/svg+xml")),
                Err(ProbeError::Svg)
            );
            assert_eq!(
                probe(svg.as_bytes(), Some("image/png")),
                Err(ProbeError::Svg)
            );
        }
        assert_eq!(
            probe(b"hello", Some("text/plain")),
            Err(ProbeError::Unknown)
        );
        assert!(matches!(probe(&png(1, 1), None), Err(ProbeError::Declared(d)) if d.is_empty()));
        assert!(matches!(
            probe(&png(1, 1), Some("image/svg+xml")),
            Err(ProbeError::Declared(_))
        ));
        assert!(matches!(
            probe(&png(0, 5), Some("image/png")),
            Err(ProbeError::BadHeader(MediaType::Png, _))
        ));
        assert!(matches!(
            probe(&png(70_000, 5), Some("image/png")),
            Err(ProbeError::BadHeader(MediaType::Png, _))
        ));
    }

    #[test]
    fn every_truncation_of_a_header_is_an_error_not_a_panic() {
        let headers = [
            png(640, 480),
            jpeg_with(Some(6), 800, 600),
            avif(1200, 800),
            [b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0".as_slice(), &[0; 10]].concat(),
        ];
        for full in headers {
            let t = sniff(&full).expect("sniffed");
            assert!(dims(t, &full).is_ok());
            for cut in 0..full.len() {
                let part = &full[..cut];
                if let Ok(t) = sniff(part) {
                    // Either an error or (for a cut after the size) the same size.
                    if let Ok(d) = dims(t, part) {
                        assert_eq!(Ok(d), dims(t, &full), "cut at {cut}");
                    }
                }
            }
        }
    }

    #[test]
    fn hostile_lengths_and_boxes_stay_in_bounds() {
        // A JPEG whose segment lengths point past the end, or are zero.
        for seg in [
            [0xFF, 0xE0, 0xFF, 0xFF],
            [0xFF, 0xE0, 0, 0],
            [0xFF, 0xE0, 0, 1],
        ] {
            let jpeg = [&[0xFF, 0xD8][..], &seg].concat();
            assert!(dims(MediaType::Jpeg, &jpeg).is_err());
        }
        // Endless restart markers.
        let mut jpeg = vec![0xFF, 0xD8];
        for _ in 0..5_000 {
            jpeg.extend_from_slice(&[0xFF, 0xD0]);
        }
        assert!(dims(MediaType::Jpeg, &jpeg).is_err());
        // ISOBMFF: a 64-bit size past the end, a size smaller than its header, size 0.
        for bad in [
            b"\0\0\0\x01meta\xff\xff\xff\xff\xff\xff\xff\xff".to_vec(),
            b"\0\0\0\x04meta".to_vec(),
            b"\0\0\0\0meta\0\0\0\0".to_vec(),
        ] {
            let file = [b"\0\0\0\x10ftypavif\0\0\0\0".as_slice(), &bad].concat();
            assert_eq!(sniff(&file), Ok(MediaType::Avif));
            assert!(dims(MediaType::Avif, &file).is_err());
        }
        // An EXIF IFD with a huge entry count and offsets past the end.
        let exif = b"Exif\0\0II\x2a\0\xff\xff\xff\x7f".to_vec();
        assert_eq!(exif_orientation(&exif), None);
        let exif = b"Exif\0\0II\x2a\0\x08\0\0\0\xff\xff".to_vec();
        assert_eq!(exif_orientation(&exif), None);
    }
}
