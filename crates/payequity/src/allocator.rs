//! Settings of mimalloc, the global allocator of the CLI, the Python extension and the benches.
//!
//! A 10M-row analysis allocates and frees many 80 MB columns. By default mimalloc returns freed memory to the
//! kernel with `MADV_DONTNEED` (`purge_decommits = 1`), and the kernel must then zero every page again when
//! the next column reuses it: a quarter of the transparency bench's time was `clear_page_erms`.
//! [`configure`] sets `purge_decommits = 0`, so freed memory is handed back with `MADV_FREE`: the kernel
//! takes it whenever it needs memory, and until then the next column reuses the pages as they are (the
//! resident size counted by `top` stays higher; the memory is still available to other processes).
//! See <https://microsoft.github.io/mimalloc/group__options.html>.

/// `mi_option_purge_decommits` in `mimalloc.h` (the same position in mimalloc v2 and v3; libmimalloc-sys
/// names no constant for it).
const MI_OPTION_PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;

/// The environment variable that overrides the setting (mimalloc reads it at start-up).
const PURGE_DECOMMITS_VARIABLE: &str = "MIMALLOC_PURGE_DECOMMITS";

/// Freed memory goes back to the kernel with `MADV_FREE` (see the module docs), unless the user set
/// `MIMALLOC_PURGE_DECOMMITS`. Call once at start-up from a binary whose global allocator is mimalloc; in
/// any other binary it only changes a setting of an allocator nobody uses.
pub fn configure() {
    if std::env::var_os(PURGE_DECOMMITS_VARIABLE).is_none() {
        // SAFETY: `mi_option_set` stores an integer option; it is thread-safe and valid at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DECOMMITS, 0) };
    }
}

/// The current value of `purge_decommits` (0 after [`configure`]).
pub fn purge_decommits() -> std::ffi::c_long {
    // SAFETY: reads an integer option.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DECOMMITS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configure_hands_freed_pages_back_lazily() {
        if std::env::var_os(PURGE_DECOMMITS_VARIABLE).is_some() {
            return;
        }
        // mimalloc's documented default, so the constant names the right option.
        assert_eq!(purge_decommits(), 1);
        configure();
        assert_eq!(purge_decommits(), 0);
    }
}
