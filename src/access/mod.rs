//! Who may do what: signed tokens ([`token`]), roles, scopes and what a token may grant
//! ([`policy`]), the route table with each route's access rule ([`routes`]) and the typed values
//! of its paths ([`params`]), and rate limits ([`throttle`]).

pub mod params;
pub mod policy;
pub mod routes;
pub mod throttle;
pub mod token;

pub use policy::{permit, Role, Scope};
pub use routes::{Access, Route, RouteError};
pub use token::{AuthError, Claims, Keys, Purpose};
