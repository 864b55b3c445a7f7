//! Prints the OpenAPI document of a Folio with only the built-in collection (posts), exactly as
//! `GET /api/openapi.json` answers it there: what the editor's API types are generated from
//! (`make api-types`; `make check` fails when the committed ones drift).
fn main() {
    let posts = folio::content::schema::Collection::posts();
    let document = folio::openapi::document(&[&posts]);
    match serde_json::to_string_pretty(&document) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("the document does not serialize: {e}");
            std::process::exit(1);
        }
    }
}
