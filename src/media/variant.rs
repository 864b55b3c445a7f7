//! The width variants of an image: which widths exist ([`WIDTHS`]), which one a request gets
//! ([`choose`]), the `srcset` that lists them ([`srcset`]), and how one is made ([`resize`]).
//!
//! A variant is made once, on its first request, by decoding the original with the pure-Rust
//! `image` crate, applying its EXIF orientation, downscaling by area averaging
//! (`thumbnail_exact`: no float intermediate, so memory stays at the decoded original plus
//! the small result) and encoding JPEG (quality [`JPEG_QUALITY`]) or PNG; the edge then keeps
//! it in R2. Never upscaled: a width at or above the original's is the original.

use std::io::Cursor;

use super::probe::{Dims, MAX_DIMENSION};
use super::MediaType;

/// The widths a reader may ask for (`?w=`), in pixels: phone, phablet, tablet, laptop and
/// desktop widths (Strapi's breakpoints are 500/750/1000, Next.js's 640…3840).
pub const WIDTHS: [u32; 5] = [320, 640, 960, 1280, 1920];

/// The largest original decoded for a variant: 4096 × 3072 (12.6 MP, a 12 MP phone photo),
/// 50 MB as RGBA, within the isolate's 128 MB. Larger originals are served as they are.
pub const MAX_VARIANT_PIXELS: u64 = 4_096 * 3_072;

/// Quality of JPEG variants: visually lossless at screen sizes, a quarter of quality 100.
pub const JPEG_QUALITY: u8 = 82;

/// The `src` of an image that has variants: the widest at most this, so that a browser
/// ignoring `srcset` still gets a screen-sized file.
pub const FALLBACK_WIDTH: u32 = 1_280;

/// What a `?w=` request is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    Original,
    Variant(u32),
}

/// Whether an image of this type and size has variants.
pub fn resizable(media_type: MediaType, dims: Option<Dims>) -> bool {
    let decodable = matches!(
        media_type,
        MediaType::Jpeg | MediaType::Png | MediaType::Webp
    );
    decodable
        && dims.is_some_and(|d| u64::from(d.width) * u64::from(d.height) <= MAX_VARIANT_PIXELS)
}

/// Parses `?w=`: one of [`WIDTHS`].
///
/// # Errors
/// A message naming the widths.
pub fn parse_width(w: &str) -> Result<u32, String> {
    w.parse::<u32>()
        .ok()
        .filter(|w| WIDTHS.contains(w))
        .ok_or_else(|| format!("w must be one of {WIDTHS:?}"))
}

/// What a request for width `requested` of this image gets.
pub fn choose(requested: u32, media_type: MediaType, dims: Option<Dims>) -> Served {
    match dims {
        Some(d) if resizable(media_type, dims) && requested < d.width => Served::Variant(requested),
        _ => Served::Original,
    }
}

/// The height of the `width`-wide variant of an image of `dims` (at least 1).
pub fn variant_height(dims: Dims, width: u32) -> u32 {
    let h = u64::from(dims.height) * u64::from(width) / u64::from(dims.width.max(1));
    u32::try_from(h.max(1)).unwrap_or(u32::MAX)
}

/// The `src`, `srcset` and `sizes` of a media image at `url` (`/media/{id}`), when it has
/// variants: every width below the original's, then the original at its own width.
pub fn srcset(url: &str, media_type: MediaType, dims: Dims) -> Option<(String, String, String)> {
    if !resizable(media_type, Some(dims)) {
        return None;
    }
    let below: Vec<u32> = WIDTHS.into_iter().filter(|w| *w < dims.width).collect();
    if below.is_empty() {
        return None;
    }
    let mut set: Vec<String> = below.iter().map(|w| format!("{url}?w={w} {w}w")).collect();
    set.push(format!("{url} {}w", dims.width));
    let src = match below.iter().rev().find(|w| **w <= FALLBACK_WIDTH) {
        Some(w) if dims.width > FALLBACK_WIDTH => format!("{url}?w={w}"),
        _ => url.to_string(),
    };
    let sizes = format!("(max-width: {0}px) 100vw, {0}px", dims.width);
    Some((src, set.join(", "), sizes))
}

/// Makes the `width`-wide variant of an original of type `media_type`: JPEG for a JPEG or an
/// opaque WebP, PNG otherwise. Returns the bytes and their type.
///
/// # Errors
/// The decoder's or encoder's message (a corrupt file, or one over the limits).
pub fn resize(
    bytes: &[u8],
    media_type: MediaType,
    width: u32,
) -> Result<(Vec<u8>, MediaType), String> {
    use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
    let format = match media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        other => return Err(format!("{} has no variants", other.name())),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    // The decoded original (RGBA, 8 bits) plus slack for the decoder's own buffers.
    limits.max_alloc = Some(MAX_VARIANT_PIXELS * 4 + (16 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_VARIANT_PIXELS {
        return Err(format!("{w}x{h} is over the variant limit"));
    }
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    image.apply_orientation(orientation);
    let dims = Dims {
        width: image.width(),
        height: image.height(),
    };
    let small = image.thumbnail_exact(width, variant_height(dims, width));
    drop(image);
    let mut out = Cursor::new(Vec::new());
    let opaque = !small.color().has_alpha();
    if media_type == MediaType::Jpeg || (media_type == MediaType::Webp && opaque) {
        let rgb = small.to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode_image(&rgb)
            .map_err(|e| e.to_string())?;
        Ok((out.into_inner(), MediaType::Jpeg))
    } else {
        small
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        Ok((out.into_inner(), MediaType::Png))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(width: u32, height: u32) -> Dims {
        Dims { width, height }
    }

    #[test]
    fn widths_are_chosen_and_never_upscaled() {
        assert_eq!(parse_width("640"), Ok(640));
        for bad in ["", "641", "0", "-320", "1e3", "99999999999"] {
            assert!(parse_width(bad).is_err(), "{bad}");
        }
        let photo = Some(d(4032, 3024));
        assert_eq!(choose(640, MediaType::Jpeg, photo), Served::Variant(640));
        assert_eq!(
            choose(1920, MediaType::Jpeg, Some(d(1000, 800))),
            Served::Original
        );
        assert_eq!(
            choose(960, MediaType::Jpeg, Some(d(960, 800))),
            Served::Original
        );
        assert_eq!(choose(320, MediaType::Gif, photo), Served::Original);
        assert_eq!(choose(320, MediaType::Avif, photo), Served::Original);
        assert_eq!(choose(320, MediaType::Pdf, None), Served::Original);
        // Over the decode limit: the original.
        assert_eq!(
            choose(320, MediaType::Png, Some(d(8000, 6000))),
            Served::Original
        );
        assert_eq!(variant_height(d(4032, 3024), 640), 480);
        assert_eq!(variant_height(d(10_000, 1), 320), 1);
    }

    #[test]
    fn srcset_lists_the_widths_below_the_original_then_the_original() {
        let (src, set, sizes) = srcset("/media/ab", MediaType::Jpeg, d(1000, 500)).unwrap();
        assert_eq!(src, "/media/ab");
        assert_eq!(
            set,
            "/media/ab?w=320 320w, /media/ab?w=640 640w, /media/ab?w=960 960w, /media/ab 1000w"
        );
        assert_eq!(sizes, "(max-width: 1000px) 100vw, 1000px");
        let (src, set, _) = srcset("/m", MediaType::Png, d(4000, 3000)).unwrap();
        assert_eq!(src, "/m?w=1280");
        assert!(set.ends_with("/m?w=1920 1920w, /m 4000w"));
        assert_eq!(srcset("/m", MediaType::Png, d(320, 200)), None);
        assert_eq!(srcset("/m", MediaType::Gif, d(4000, 3000)), None);
    }

    fn encoded(format: image::ImageFormat, w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let image = if alpha {
            image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(w, h, |x, y| {
                image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 128])
            }))
        } else {
            image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
            }))
        };
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn variants_have_the_asked_width_and_the_right_type() {
        let jpeg = encoded(image::ImageFormat::Jpeg, 900, 600, false);
        let (bytes, t) = resize(&jpeg, MediaType::Jpeg, 320).unwrap();
        assert_eq!(t, MediaType::Jpeg);
        let p = super::super::probe::probe(&bytes, Some("image/jpeg")).unwrap();
        assert_eq!(p.dims, Some(d(320, 213)));
        let png = encoded(image::ImageFormat::Png, 700, 700, true);
        let (bytes, t) = resize(&png, MediaType::Png, 640).unwrap();
        assert_eq!(t, MediaType::Png);
        let p = super::super::probe::probe(&bytes, Some("image/png")).unwrap();
        assert_eq!(p.dims, Some(d(640, 640)));
        assert!(resize(b"\xFF\xD8\xFF\xE0 not really", MediaType::Jpeg, 320).is_err());
        assert!(resize(&png, MediaType::Gif, 320).is_err());
    }
}
