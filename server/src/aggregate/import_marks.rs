//! How far each import from the page was counted in a partition: the
//! highest record number of it counted. A resumed import sends its files
//! again from their start; what it sends up to its mark was counted before
//! and is skipped, so every record counts once (see [`ImportPosition`]).

use std::collections::BTreeMap;

use crate::event::{ImportId, ImportPosition, RecordNumber};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportMarks(BTreeMap<ImportId, RecordNumber>);

impl ImportMarks {
    /// Whether the record is beyond what was counted of its import; if so,
    /// it is counted from now on.
    pub fn admit(&mut self, position: &ImportPosition) -> bool {
        let number = position.number();
        match self.0.get_mut(&position.id) {
            Some(mark) if *mark >= number => false,
            Some(mark) => {
                *mark = number;
                true
            }
            None => {
                self.0.insert(position.id.clone(), number);
                true
            }
        }
    }

    /// Takes in marks counted since (a batch's), keeping the highest of each import.
    pub fn merge(&mut self, later: &ImportMarks) {
        for (id, number) in &later.0 {
            let mark = self.0.entry(id.clone()).or_insert(*number);
            *mark = (*mark).max(*number);
        }
    }

    pub fn get(&self, id: &ImportId) -> Option<RecordNumber> {
        self.0.get(id).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ImportId, &RecordNumber)> {
        self.0.iter()
    }
}

impl FromIterator<(ImportId, RecordNumber)> for ImportMarks {
    fn from_iter<I: IntoIterator<Item = (ImportId, RecordNumber)>>(marks: I) -> Self {
        let mut all = Self::default();
        for (id, number) in marks {
            all.merge(&Self(BTreeMap::from([(id, number)])));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: &str, file: u32, record: u64) -> ImportPosition {
        ImportPosition {
            id: ImportId(id.into()),
            file,
            record,
        }
    }

    #[test]
    fn a_record_counts_once_whatever_is_sent_again() {
        let mut marks = ImportMarks::default();
        assert!(marks.admit(&at("a", 0, 1)));
        assert!(marks.admit(&at("a", 0, 2)));
        assert!(marks.admit(&at("a", 1, 1)));
        // Sent again from the start after a restart.
        assert!(!marks.admit(&at("a", 0, 1)));
        assert!(!marks.admit(&at("a", 0, 2)));
        assert!(!marks.admit(&at("a", 1, 1)));
        assert!(marks.admit(&at("a", 1, 2)));
        // Another import counts apart.
        assert!(marks.admit(&at("b", 0, 1)));
        assert_eq!(
            marks.get(&ImportId("a".into())),
            Some(RecordNumber { file: 1, record: 2 })
        );
    }

    #[test]
    fn merging_keeps_the_highest_mark() {
        let mut state: ImportMarks = [(ImportId("a".into()), RecordNumber { file: 0, record: 9 })]
            .into_iter()
            .collect();
        let batch: ImportMarks = [
            (ImportId("a".into()), RecordNumber { file: 1, record: 3 }),
            (ImportId("b".into()), RecordNumber { file: 0, record: 1 }),
        ]
        .into_iter()
        .collect();
        state.merge(&batch);
        state.merge(
            &[(ImportId("a".into()), RecordNumber { file: 0, record: 2 })]
                .into_iter()
                .collect(),
        );
        assert_eq!(
            state.get(&ImportId("a".into())),
            Some(RecordNumber { file: 1, record: 3 })
        );
        assert_eq!(
            state.get(&ImportId("b".into())),
            Some(RecordNumber { file: 0, record: 1 })
        );
    }
}
