//! The kernel facts `quirks` finds out.

#[test]
fn short_write_probe_reaches_an_answer() {
  // The experiment must come out short (a fault on the second page) wherever io_uring and memfd
  // exist; otherwise the binding would silently assume a kernel that moves the position.
  let answer = uring_core::quirks::short_write_probe();
  eprintln!("a short write at the file position leaves it unmoved: {answer:?}");
  assert!(
    answer.is_some(),
    "the short-write experiment did not come out short"
  );
  assert_eq!(
    answer,
    uring_core::quirks::short_write_probe(),
    "same answer twice"
  );
  assert_eq!(answer, Some(uring_core::quirks::short_write_keeps_position()));
}
