//! A walk over the page headers of a Parquet file before polars decodes it. polars 0.55 trusts a page
//! header's value count: a damaged or hostile file whose header says -1 values makes it reserve exabytes and
//! abort the process, which no error handling can catch (found by `tests/fuzz.rs`). Only the headers are
//! read — a few bytes per page, page data is skipped — so the walk costs one seek per page.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use polars::prelude::*;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::PageHeader;

use super::io_error;
use crate::{Error, Result};

/// Most bytes a page header may take (polars' own limit for the thrift reader is the same order).
const MAX_PAGE_HEADER_BYTES: usize = 1 << 20;

/// Checks every page header of every column chunk: value counts, null counts and sizes are not negative,
/// pages stay inside the file and their value counts add up to no more than the chunk's.
pub fn check_parquet_pages(path: &Path) -> Result<()> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let length = file.metadata().map_err(|e| io_error(path, e))?.len();
    let metadata = ParquetReader::new(file).get_metadata().map_err(|e| io_error(path, e))?.clone();
    let mut reader = BufReader::with_capacity(4096, File::open(path).map_err(|e| io_error(path, e))?);
    for (group, row_group) in metadata.row_groups.iter().enumerate() {
        for column in row_group.parquet_columns() {
            let name = column.descriptor().path_in_schema.join(".");
            let damaged = |what: &str| damaged(path, group, &name, what);
            let total = column.num_values();
            let range = column.byte_range();
            if total < 0 || range.end > length || range.start > range.end {
                return Err(damaged("the column chunk's value count or byte range"));
            }
            let (mut position, mut seen) = (range.start, 0i64);
            while seen < total && position < range.end {
                reader.seek(SeekFrom::Start(position)).map_err(|e| io_error(path, e))?;
                let mut counted = CountingReader { inner: &mut reader, bytes: 0 };
                let header = PageHeader::read_from_in_protocol(&mut TCompactInputProtocol::new(
                    &mut counted,
                    MAX_PAGE_HEADER_BYTES,
                ))
                .map_err(|_| damaged("a page header"))?;
                let header_bytes = counted.bytes;
                let counts = [
                    header.data_page_header.as_ref().map(|h| h.num_values),
                    header.data_page_header_v2.as_ref().map(|h| h.num_values),
                    header.data_page_header_v2.as_ref().map(|h| h.num_nulls),
                    header.data_page_header_v2.as_ref().map(|h| h.num_rows),
                    header.dictionary_page_header.as_ref().map(|h| h.num_values),
                ];
                if header.compressed_page_size < 0
                    || header.uncompressed_page_size < 0
                    || counts.iter().flatten().any(|n| *n < 0)
                {
                    return Err(damaged("a page header (a negative count or size)"));
                }
                let values = header
                    .data_page_header
                    .as_ref()
                    .map(|h| h.num_values)
                    .or(header.data_page_header_v2.as_ref().map(|h| h.num_values))
                    .unwrap_or(0);
                seen += i64::from(values);
                if seen > total {
                    return Err(damaged("the pages' value counts (more values than the column chunk has)"));
                }
                position += header_bytes + header.compressed_page_size as u64;
                if position > range.end {
                    return Err(damaged("a page size (the page runs past its column chunk)"));
                }
            }
        }
    }
    Ok(())
}

fn damaged(path: &Path, group: usize, column: &str, what: &str) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: format!(
            "the Parquet file is damaged: {what} of column `{}` in row group {} is impossible",
            super::terminal_safe(column).chars().take(60).collect::<String>(),
            group + 1
        ),
    }
}

/// A reader that counts the bytes read through it (the length of a page header).
struct CountingReader<'r, R> {
    inner: &'r mut R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}
