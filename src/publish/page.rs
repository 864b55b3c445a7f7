//! The public HTML page of a post, and the headers it is served with.

use super::Rendered;
use crate::content::render::escape;

/// The public page's Content-Security-Policy: no script at all, no plugins, no framing, no
/// form posts, images from Folio's media (`'self'`) and anywhere over https; the page's own
/// inline style.
pub const PAGE_CSP: &str =
    "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Cache policy of published content: a minute in browsers, revalidated by ETag; five
/// minutes in shared caches (`s-maxage`: the edge cache, which a publish purges, see
/// [`super::cache`]).
pub const POST_CACHE_CONTROL: &str = "public, max-age=60, s-maxage=300, stale-while-revalidate=300";

/// The public HTML page of a post.
pub fn page_html(content: &Rendered) -> String {
    let mut title = String::new();
    escape(&content.title, &mut title);
    let mut excerpt = String::new();
    escape(&content.excerpt, &mut excerpt);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{excerpt}\"><title>{title}</title>\
         <style>body{{max-width:42rem;margin:2rem auto;padding:0 1rem;font:1.1rem/1.6 system-ui,sans-serif;color:#222}}\
         img{{max-width:100%;height:auto}}pre{{overflow:auto;background:#f4f4f4;padding:.75rem}}</style></head>\
         <body><article><h1>{title}</h1>{}</article></body></html>\n",
        content.html
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Content;
    use crate::publish::{render_for_publish, Post};

    #[test]
    fn the_page_escapes_its_title_and_excerpt() {
        let r = render_for_publish(
            &Content {
                title: "<script>x</script>".into(),
                ..Default::default()
            },
            "s".into(),
        );
        let mut post = Post::new("d", 1, r, 0, 0);
        post.content.excerpt = "\"><script>".into();
        let page = page_html(&post.content);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
    }
}
