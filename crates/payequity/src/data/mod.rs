//! The payroll data contract: column roles, loading Parquet / Arrow IPC / CSV into polars, the long→wide
//! pivot, row validation and the row ledger. Capability modules receive prepared frames from here and
//! never read files themselves.

mod columns;
mod filter;
mod gender;
pub(crate) use gender::row_gender_labels;
mod ipc_buffers;
mod key_tracker;
mod keys;
mod ledger;
mod load;
mod long;
mod parquet_pages;
mod prepare;
mod safe_text;

pub(crate) use columns::one_or_many as one_or_many_strings;
pub use columns::{ColumnMap, GenderValues, OtherGender, FEMALE, MALE};
pub use filter::{CompareOp, RowFilter};
pub use ipc_buffers::check_ipc_buffers;
pub use key_tracker::KeyTracker;
pub use keys::RowKeys;
pub(crate) use keys::{column_codes, combine, combined_codes, later_occurrences, KeyCodes};
pub use ledger::{Ledger, Reason};
pub(crate) use load::{csv_cast, format_of, guarded, io_error, FileFormat};
pub use load::{load_table, load_table_columns, load_table_from_ipc_bytes, table_columns, table_schema, write_table};
pub use long::{pivot_long, LongFormat};
pub use parquet_pages::check_parquet_pages;
pub use prepare::{
    component_column, prepare, InputFormat, Measure, PrepareSpec, Prepared, Unit, COL_GENDER, COL_HOURS, COL_PAY,
    COL_ROWS, COL_WEIGHT, NO_UNIT,
};
pub(crate) use prepare::{later_duplicates, require_column, require_numeric};
pub use safe_text::{csv_cell, csv_safe, terminal_safe};
