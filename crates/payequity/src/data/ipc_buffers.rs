//! A check of the record batch messages of an Arrow IPC file before polars decodes it. polars 0.55 reserves
//! a buffer's declared length before reading it: a damaged or hostile file that declares 2^56 bytes aborts
//! the process, which no error handling can catch (found by `tests/fuzz.rs`). Only the footer and the
//! message headers are read; buffers must lie inside their message body, array lengths must be possible
//! for the body's size, and compressed buffers must declare a plausible uncompressed size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use polars_arrow::io::ipc::read::read_file_metadata;
use polars_arrow_format::ipc::planus::ReadAsRoot;
use polars_arrow_format::ipc::{Block, MessageHeaderRef, MessageRef, RecordBatchRef};

use super::io_error;
use crate::{Error, Result};

/// The largest uncompressed buffer accepted (4 GiB: a column of 500M doubles).
const MAX_UNCOMPRESSED_BUFFER: i64 = 1 << 32;

/// Checks every record batch and dictionary batch of an Arrow IPC file (see the module docs).
pub fn check_ipc_buffers(path: &Path) -> Result<()> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let size = file.metadata().map_err(|e| io_error(path, e))?.len();
    let metadata = read_file_metadata(&mut file).map_err(|e| io_error(path, e))?;
    let mut scratch = Vec::new();
    let blocks = metadata.blocks.iter().chain(metadata.dictionaries.iter().flatten());
    for (index, block) in blocks.enumerate() {
        let damaged = |what: &str| damaged(path, index, what);
        let Block { offset, meta_data_length, body_length } = *block;
        let end = u64::try_from(offset)
            .ok()
            .zip(u64::try_from(meta_data_length).ok())
            .zip(u64::try_from(body_length).ok())
            .and_then(|((o, m), b)| o.checked_add(m)?.checked_add(b));
        if end.is_none_or(|end| end > size) {
            return Err(damaged("its position or length"));
        }
        let message = read_message(&mut file, block, &mut scratch).map_err(|_| damaged("its header"))?;
        let batch: RecordBatchRef<'_> = match message.header() {
            Ok(Some(MessageHeaderRef::RecordBatch(batch))) => batch,
            Ok(Some(MessageHeaderRef::DictionaryBatch(dictionary))) => match dictionary.data() {
                Ok(Some(batch)) => batch,
                _ => return Err(damaged("its dictionary batch")),
            },
            Ok(_) => continue,
            Err(_) => return Err(damaged("its header")),
        };
        let body_start = (offset + i64::from(meta_data_length)) as u64;
        check_batch(&mut file, batch, body_start, body_length).map_err(|what| damaged(&what))?;
    }
    Ok(())
}

/// The message of a block: an optional continuation marker, its length, then the flatbuffer (bounded by
/// the block's metadata length, which lies inside the file).
fn read_message<'s>(file: &mut File, block: &Block, scratch: &'s mut Vec<u8>) -> std::io::Result<MessageRef<'s>> {
    file.seek(SeekFrom::Start(block.offset as u64))?;
    let mut prefix = [0u8; 4];
    file.read_exact(&mut prefix)?;
    if prefix == [0xff; 4] {
        file.read_exact(&mut prefix)?;
    }
    let length = u64::try_from(i32::from_le_bytes(prefix)).map_err(|_| std::io::ErrorKind::InvalidData)?;
    if length > block.meta_data_length as u64 {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    scratch.clear();
    file.take(length).read_to_end(scratch)?;
    MessageRef::read_as_root(scratch).map_err(|_| std::io::ErrorKind::InvalidData.into())
}

/// Buffers inside the body, array lengths possible for its size, plausible uncompressed sizes.
fn check_batch(
    file: &mut File,
    batch: RecordBatchRef<'_>,
    body_start: u64,
    body_length: i64,
) -> std::result::Result<(), String> {
    let invalid = |what: &str| what.to_string();
    // Every array element takes at least one bit of some buffer (null arrays aside, which allocate nothing).
    let most_elements = body_length.saturating_mul(8).saturating_add(1 << 20);
    let rows = batch.length().map_err(|_| invalid("its row count"))?;
    if !(0..=most_elements).contains(&rows) {
        return Err(invalid("its row count"));
    }
    let nodes = batch.nodes().map_err(|_| invalid("its array lengths"))?;
    for node in nodes.iter().flat_map(|nodes| nodes.iter()) {
        if !(0..=most_elements).contains(&node.length()) || !(0..=node.length()).contains(&node.null_count()) {
            return Err(invalid("an array length"));
        }
    }
    let compressed = batch.compression().map_err(|_| invalid("its compression"))?.is_some();
    let buffers = batch.buffers().map_err(|_| invalid("its buffers"))?;
    for buffer in buffers.iter().flat_map(|buffers| buffers.iter()) {
        let (offset, length) = (buffer.offset(), buffer.length());
        if offset < 0 || length < 0 || offset.checked_add(length).is_none_or(|end| end > body_length) {
            return Err(invalid("a buffer (it lies outside the message body)"));
        }
        if compressed && length >= 8 {
            let mut declared = [0u8; 8];
            file.seek(SeekFrom::Start(body_start + offset as u64)).map_err(|e| e.to_string())?;
            file.read_exact(&mut declared).map_err(|e| e.to_string())?;
            if !(-1..=MAX_UNCOMPRESSED_BUFFER).contains(&i64::from_le_bytes(declared)) {
                return Err(invalid("a compressed buffer's uncompressed size"));
            }
        }
    }
    Ok(())
}

fn damaged(path: &Path, block: usize, what: &str) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: format!("the Arrow IPC file is damaged: {what} of record batch {} is impossible", block + 1),
    }
}
