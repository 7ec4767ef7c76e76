//! A vector that grows in fixed chunks and never moves what it holds: a run keeps every job it
//! has seen (a year holds a million), and a plain vector would copy them all each time it grew.

use std::ops::{Index, IndexMut};

const CHUNK: usize = 1 << 14;

/// Items by index, stored `CHUNK` to a block.
#[derive(Clone, Debug)]
pub(crate) struct Chunked<T> {
    /// Every chunk but the last is full.
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    /// Appends an item; its index is the length before.
    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.chunks.last().map_or(0, |last| (self.chunks.len() - 1) * CHUNK + last.len())
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_their_index_across_chunks() {
        let mut c = Chunked::default();
        for i in 0..(2 * CHUNK + 5) {
            c.push(i);
        }
        assert_eq!(c.len(), 2 * CHUNK + 5);
        c[CHUNK] += 1;
        assert_eq!((c[0], c[CHUNK - 1], c[CHUNK], c[2 * CHUNK + 4]), (0, CHUNK - 1, CHUNK + 1, 2 * CHUNK + 4));
    }

    #[test]
    #[should_panic]
    fn an_index_past_the_end_panics_as_a_vector_would() {
        let mut c = Chunked::default();
        c.push(1);
        let _ = c[1];
    }
}
