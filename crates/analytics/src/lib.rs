//! Indicators, declared not coded: an expression over a form's fields, the breakdowns it
//! allows and how public it is. Their aggregates are kept up to date in the transaction
//! that stores each submission ([`Registry`] is what the store asks), and questions are
//! answered from the aggregates with the DTM estimators ([`query::aggregate`]).

pub mod definition;
pub mod disclosure;
pub mod estimate;
pub mod fivew;
pub mod hxl;
pub mod query;
pub mod registry;

pub use definition::{IndicatorDef, IndicatorFile, Kind, Sensitivity};
pub use estimate::Estimate;
pub use query::{Answer, QueryError, Request, aggregate};
pub use registry::{FormInfo, Live, Registry, SiteInfo};
