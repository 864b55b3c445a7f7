//! Named caps on what the network may send and what a document may hold.
//!
//! Every cap is a constant here, with the reason for its value, so operators and reviewers
//! find them in one place.

/// Largest WebSocket frame a client may send, in bytes (1 MiB). One y-protocols message per
/// frame; a paste of a long chapter is far below this. Frames above it close the socket with
/// 1009. Cloudflare itself accepts frames up to 32 MiB
/// (developers.cloudflare.com/durable-objects/platform/limits/), far more than an edit needs.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// Largest encoded document (Yjs v1 update of the whole state) the object accepts, in bytes
/// (16 MiB). An update that would push the document past it is refused with 1009. The bound
/// keeps load time and the object's memory (128 MB per isolate) safe.
pub const MAX_DOC_BYTES: u64 = 16 << 20;

/// Snapshot chunk size (1 MiB): Durable Object storage values are limited to 2 MB, so a
/// snapshot is split into chunks of at most this many bytes.
pub const MAX_CHUNK_BYTES: usize = 1 << 20;

/// Compaction threshold by count: once the log holds this many updates (and they amount to a
/// fair share of the snapshot, see [`COMPACT_LOG_SHARE`]), it is folded into a new snapshot.
pub const COMPACT_MIN_UPDATES: u64 = 500;

/// Compaction threshold by size: a log of this many bytes is always compacted.
pub const COMPACT_MAX_LOG_BYTES: u64 = 1 << 20;

/// The count threshold only applies once the log is at least 1/`COMPACT_LOG_SHARE` of the
/// snapshot's size. Compaction re-encodes the whole document, so this keeps its amortised cost
/// per update proportional to the update's size, not to the document's.
pub const COMPACT_LOG_SHARE: u64 = 8;

/// WebSocket close reasons are limited to 123 bytes of UTF-8 (RFC 6455 §5.5: control frame
/// payload of 125 bytes, two of them the code).
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// Longest document id (characters of `[A-Za-z0-9_-]`).
pub const MAX_DOC_ID_LEN: usize = 128;

/// Largest client id Yjs can produce and JavaScript can represent exactly (2^53 - 1).
pub const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// Per-connection budget: sustained messages per second, and the burst allowed above it.
/// A person typing fast sends a few dozen messages a second (edits plus awareness); a
/// client far beyond this is broken or hostile and is cut off (close 4008) so that it cannot
/// stall the document for everyone else.
pub const BUDGET_MESSAGES_PER_SEC: f64 = 200.0;
pub const BUDGET_MESSAGE_BURST: f64 = 1000.0;

/// Per-connection budget in bytes: sustained rate and burst (a burst fits a frame at the
/// [`MAX_FRAME_BYTES`] cap twice over, e.g. a large paste).
pub const BUDGET_BYTES_PER_SEC: f64 = 1024.0 * 1024.0;
pub const BUDGET_BYTE_BURST: f64 = 4.0 * 1024.0 * 1024.0;

/// Author HTTP endpoints, per client (signed-in user, or address when anonymous): sustained
/// requests per second and burst. An editor UI makes a few requests per action; a script
/// looping on publish is slowed to this with 429 + `Retry-After`.
pub const AUTHOR_REQUESTS_PER_SEC: f64 = 10.0;
pub const AUTHOR_REQUEST_BURST: f64 = 60.0;

/// Sign-in attempts per client address: sustained per second (one per 6 s) and burst. Keys
/// are 256-bit, so this is not what keeps them safe; it keeps the endpoint cheap.
pub const SIGN_IN_PER_SEC: f64 = 1.0 / 6.0;
pub const SIGN_IN_BURST: f64 = 10.0;

/// Clients one worker isolate tracks at once; beyond it the fullest buckets are forgotten.
pub const MAX_THROTTLED_CLIENTS: usize = 10_000;

/// Deepest nesting of `Any` values (arrays and objects, in map entries and array items) and
/// of JSON strings (formatting attributes, embeds) accepted from the network. yrs decodes
/// both recursively; real content nests a few levels (a ProseMirror attribute object).
/// Measured on the stack that ships (`make stack`: the release wasm, 1 MiB stack, under V8):
/// yrs decodes and applies a value nested 5,457 levels deep and overflows at 5,458, about
/// 190 bytes a level. 64 is 85 times below that, leaving the stack to everything that calls
/// into yrs.
pub const MAX_VALUE_NESTING: usize = 64;

/// Deepest nesting of shared types (an element in an element ...). yrs deletes and
/// garbage-collects nested types recursively, so an unbounded chain stored once would make
/// every later delete of it overflow the stack. Measured with `make stack`: building,
/// extracting, deleting and encoding a chain survives 6,605 levels and overflows at 6,606
/// (about 160 bytes a level). A TipTap document nests two levels per list level (list, item),
/// so 128 is sixty list levels deep, and 51 times below the overflow.
pub const MAX_TYPE_NESTING: usize = 128;

/// Largest awareness state (JSON bytes) one client may announce. A TipTap caret state (user
/// name and colour, cursor anchor and head) is a few hundred bytes; states are relayed to
/// everyone and kept in memory, so a 1 MiB state per client is refused.
pub const MAX_AWARENESS_STATE_BYTES: usize = 4096;

/// Largest SyncStep2 frame (a client's offline work, sent once when it connects): the
/// document cap plus room for the envelope. It is charged to the connection's byte budget
/// like any frame, which may go into debt for it (see `room::Budget::spend`), so offline work
/// over [`MAX_FRAME_BYTES`] still arrives. Cloudflare accepts WebSocket messages up to 32 MiB.
pub const MAX_SYNC_FRAME_BYTES: usize = MAX_DOC_BYTES as usize + (64 << 10);

/// The penalty box (`throttle::Penalties`): after a socket is closed for something its client
/// would repeat (over budget, too large, refused), that client's new sockets to the document
/// are refused with 429 for this long, doubling with each strike up to the maximum. Stock
/// y-websocket backs off (up to 2.5 s) after a refused upgrade, so a permanently refused client
/// makes about one attempt per 2.5 s, each answered without loading the document.
pub const PENALTY_BASE_MS: i64 = 1_000;
pub const PENALTY_MAX_MS: i64 = 60_000;
/// Strikes are forgotten after this long without one.
pub const PENALTY_FORGIVE_MS: i64 = 600_000;

/// Largest request body the API reads (token, preview and schedule requests are a few hundred
/// bytes of JSON). Checked against `Content-Length` before anything is read, and while reading
/// a body without one: 413 `body_too_large`.
pub const MAX_BODY_BYTES: usize = 64 << 10;

/// A JSON write's body (`PATCH /api/docs/{doc}`, `POST /api/docs` with fields): rich text
/// and long text come in it, so it is larger than other bodies; well under what one edit
/// of a document may add.
pub const MAX_WRITE_BYTES: usize = 1 << 20;

/// Largest sign-in body (`{"key"}` or `{"invite"}`): the one body anyone may send unsigned.
pub const MAX_SIGN_IN_BODY_BYTES: usize = 4 << 10;

/// A publish or unpublish that failed for a reason that may pass (D1 unavailable) is retried
/// by the document's alarm after this long, doubling per attempt up to the cap (ms).
pub const PUBLISH_RETRY_BASE_MS: i64 = 2_000;
pub const PUBLISH_RETRY_MAX_MS: i64 = 300_000;

/// A published body is stored in D1 in parts of at most this many bytes (D1 limits a row to
/// 2 MB; local SQLite builds to 1 MB), so that no post within the document cap is too large.
pub const POST_PART_BYTES: usize = 512 << 10;

/// A post whose JSON is larger than this is not copied into KV (a value holds at most 25 MiB):
/// KV holds a pointer and readers get the body from D1.
pub const MAX_KV_POST_BYTES: usize = 20 << 20;

/// Coalescing (see `room`): under load, a document relays what it received in flushes, each
/// one merged update (stored as one log row) and one awareness frame per receiver. A change
/// goes out at once while flushes come no faster than one per interval on average (a token
/// bucket, [`FLUSH_BURST`] deep), so light load sees no added delay; under load there is one
/// flush per interval. The interval grows with the receivers, because a flush costs one send
/// per receiver: `receivers * 1000 / FLUSH_SENDS_PER_SEC` ms, kept between
/// [`FLUSH_MIN_MS`] and [`FLUSH_MAX_MS`] — about 500 relay frames a second at most for up to
/// 20 connections (an interval of 4 ms for 2 authors, 20 ms for 10), and an interval of 40 ms
/// above that. Chosen with `make bench` on this project's 2-core machine (README
/// "Performance"): fixed intervals of 5, 10, 20 and 40 ms gave 50 writers at 5 edits/s a p99
/// of 0.7–1.6 s, 0.4–0.7 s, 0.1–0.3 s and 0.16–0.19 s, and 10 writers at 100 edits/s a p99 of
/// 0.2–0.6 s, 0.3–0.8 s, 0.16–0.19 s and 0.16 s: past ~20 ms for 10 receivers the sends no
/// longer dominate, and the p50 rises with the interval.
pub const FLUSH_SENDS_PER_SEC: i64 = 500;
pub const FLUSH_MIN_MS: i64 = 4;
pub const FLUSH_MAX_MS: i64 = 40;
/// Flushes that may go out at once before the interval applies (a token bucket's depth): so
/// that load near the rate (10 authors typing 5 characters a second each is 450 frames a
/// second) is not held back by its own jitter. Measured: with a plain minimum interval instead,
/// 10 writers at 5 edits/s had a p99 of 28 ms (15 ms p50); with the bucket, 12–14 ms (5 ms).
pub const FLUSH_BURST: i64 = 4;

/// Presence alone (awareness renewals and caret moves, no document update) is flushed at most
/// every `receivers * 1000 / PRESENCE_SENDS_PER_SEC` ms, up to [`PRESENCE_MAX_MS`]: 10 ms for
/// 10 connections, 200 ms for 200. Presence that comes with an edit goes out with it. Without
/// it, 200 viewers renewing their presence (y-protocols does every 15 s) filled the flushes
/// with 200 sends each, and 1 writer's edits reached the viewers with a p99 of 0.4–0.7 s.
pub const PRESENCE_SENDS_PER_SEC: i64 = 1_000;
pub const PRESENCE_MAX_MS: i64 = 250;

// Tokens (see `access::token`): times are whole seconds, as in a token's signed claims.

/// Longest token accepted, in bytes: claims are a few short fields.
pub const MAX_TOKEN_BYTES: usize = 1024;

/// Shortest admin key accepted (characters): `make dev` generates 43 (256 random bits).
pub const MIN_ADMIN_KEY_LEN: usize = 32;

/// Longest user name in a token (characters).
pub const MAX_USER_LEN: usize = 64;

/// Default lifetime of an API or socket token (15 min): short, because a token cannot be
/// revoked; the editor fetches a fresh one with its session before this runs out.
pub const API_TTL_SECS: u64 = 15 * 60;
/// Longest lifetime an API token may ask for (24 h).
pub const MAX_API_TTL_SECS: u64 = 24 * 60 * 60;
/// Lifetime of a browser session (cookie) after signing in (12 h).
pub const SESSION_TTL_SECS: u64 = 12 * 60 * 60;
/// Default and longest lifetime of an invitation (7 and 30 days).
pub const INVITE_TTL_SECS: u64 = 7 * 24 * 60 * 60;
pub const MAX_INVITE_TTL_SECS: u64 = 30 * 24 * 60 * 60;
/// Default and longest lifetime of a preview link (1 h and 7 days).
pub const PREVIEW_TTL_SECS: u64 = 60 * 60;
pub const MAX_PREVIEW_TTL_SECS: u64 = 7 * 24 * 60 * 60;

// The document object's timers (see `publish::plan`).

/// Edits refresh the document's registry row in D1 (title, updated time) at most this often,
/// with a trailing refresh by the alarm: the dashboard is current within 10 s while a burst of
/// typing costs one D1 write per 10 s, not one per keystroke.
pub const TOUCH_INTERVAL_MS: i64 = 10_000;
/// Minimum time between two KV writes of one document: Cloudflare allows one write a second
/// per key; a sooner one is left pending and the alarm writes the latest version.
pub const KV_WRITE_INTERVAL_MS: i64 = 1_000;
/// Delay before a failed KV write is tried again.
pub const KV_RETRY_MS: i64 = 2_000;
/// Delay before a document's webhook events that could not be queued are tried again (the
/// registry in D1 or a webhook's queue was unavailable).
pub const OUTBOX_RETRY_MS: i64 = 30_000;
/// A webhook event that could not be queued for this long is dropped (logged): its outbox
/// must not keep the document's alarm ringing forever.
pub const OUTBOX_MAX_AGE_MS: i64 = 24 * 3600 * 1000;
/// The alarm arms this fallback first and replaces it at the end of its run, so a run that
/// ends early (an exception, a reset) still comes back.
pub const ALARM_FALLBACK_MS: i64 = 30_000;
/// Backoff before a scheduled entry that failed transiently is tried again.
pub const SCHEDULE_RETRY_MS: i64 = 2_000;

// Content types (see `content::schema`). A definition is read from a request body of at most
// MAX_BODY_BYTES; these caps keep every generated form, index and OpenAPI schema small.

/// Most fields in a collection: more than any real content type (Contentful allows 50).
pub const MAX_FIELDS: usize = 64;
/// Most options of a `select` field, and longest option (characters).
pub const MAX_OPTIONS: usize = 200;
pub const MAX_OPTION_CHARS: usize = 200;
/// Longest label of a collection or field (characters).
pub const MAX_LABEL_CHARS: usize = 200;
/// Highest `max_length` a `text` field may declare (characters): a text field is a line or a
/// paragraph; long text belongs in `richtext`.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// How long a worker isolate reuses a collection's definition read from D1 before reading it
/// again (ms): a changed definition reaches every isolate within this time (the one that
/// changed it at once).
pub const COLLECTION_CACHE_MS: i64 = 5_000;
/// A schema change that could invalidate entries is judged against each published entry of
/// the collection, read in pages of this many (one D1 query each)...
pub const BREAKAGE_PAGE: u32 = 500;
/// ... up to this many entries (20 queries). Past it the rest are not checked, and the change
/// is refused unless forced, saying how many were not checked.
pub const MAX_BREAKAGE_ENTRIES: usize = 10_000;
/// Entries whose list summary cannot tell (rich text touched, or a summary too large to keep)
/// are judged from their published version's body: at most this many (2 queries each).
pub const MAX_BREAKAGE_BODIES: usize = 50;
/// How many broken entries a 409 `incompatible_change` lists (it counts them all).
pub const MAX_BROKEN_LISTED: usize = 50;
/// Most collection names one isolate caches (lookups of names that do not exist are cached too).
pub const MAX_CACHED_COLLECTIONS: usize = 256;
