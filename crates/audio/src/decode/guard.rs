//! symphonia panics on some damaged data: its calls run guarded, and a panic comes back as
//! an error naming a damaged file.

thread_local! {
    /// How many [`guarded`] calls this thread is inside.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Run symphonia code that may panic on damaged data; a panic comes back as `Err` and the
/// caller reports a damaged file. Panic hooks can stay quiet about such a panic (see
/// [`panic_is_guarded`]): it is an error message, not a crash.
pub(super) fn guarded<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    GUARDED.with(|g| g.set(g.get().saturating_add(1)));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    result
}

/// Whether the current thread is inside symphonia code whose panics are caught and
/// reported as a damaged file. For a panic hook: the `stemdeck` binary prints nothing
/// for these, so the user sees only the one-line error naming the file.
pub fn panic_is_guarded() -> bool {
    GUARDED.with(|g| g.get() > 0)
}
