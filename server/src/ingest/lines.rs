//! Line numbers of CSV records as a person counts them in an editor.
//!
//! The csv crate's own line numbers skip blank lines and its record positions
//! point before them, so the reader's input passes through [`LineCounted`],
//! which notes where each newline is; [`Lines::line_of`] then turns a record's
//! byte position into its line.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// Newlines read but not yet passed by the parser.
#[derive(Default)]
pub struct Lines {
    ahead: VecDeque<u64>,
    passed: u64,
}

impl Lines {
    /// The line of the record the parser reports at `byte`: blank lines there
    /// belong before the record.
    pub fn line_of(&mut self, byte: u64) -> u64 {
        let mut start = byte;
        while let Some(&newline) = self.ahead.front() {
            if newline < start {
                self.passed += 1;
                self.ahead.pop_front();
            } else if newline == start {
                self.passed += 1;
                self.ahead.pop_front();
                start += 1;
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

/// Input that notes the offset of every newline going through it.
pub struct LineCounted<R> {
    inner: R,
    offset: u64,
    lines: Rc<RefCell<Lines>>,
}

impl<R: Read> LineCounted<R> {
    pub fn new(inner: R) -> (Self, Rc<RefCell<Lines>>) {
        let lines = Rc::new(RefCell::new(Lines::default()));
        let counted = Self {
            inner,
            offset: 0,
            lines: Rc::clone(&lines),
        };
        (counted, lines)
    }
}

impl<R: Read> Read for LineCounted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let mut lines = self.lines.borrow_mut();
        for (index, byte) in buf[..read].iter().enumerate() {
            if *byte == b'\n' {
                lines.ahead.push_back(self.offset + index as u64);
            }
        }
        self.offset += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, record_starts: &[u64]) -> Vec<u64> {
        let (mut input, lines) = LineCounted::new(text.as_bytes());
        std::io::copy(&mut input, &mut std::io::sink()).unwrap();
        let mut lines = lines.borrow_mut();
        record_starts
            .iter()
            .map(|byte| lines.line_of(*byte))
            .collect()
    }

    #[test]
    fn counts_lines_before_each_record() {
        assert_eq!(lines_of("h\na\nb\n", &[2, 4]), vec![2, 3]);
    }

    #[test]
    fn blank_lines_at_a_record_position_come_before_it() {
        // The parser reports "c" at byte 4, where the blank lines begin.
        assert_eq!(lines_of("h\na\n\n\nc\n", &[2, 4]), vec![2, 5]);
    }

    #[test]
    fn newlines_inside_a_record_do_not_move_its_start() {
        assert_eq!(lines_of("h\n\"x\ny\"\nz\n", &[2, 8]), vec![2, 4]);
    }
}
