//! The connection table: a slab of entries, a hash index over both tuples of each, and an
//! expiry wheel.
//!
//! The index stores only `slot << 1 | dir` (4 bytes) and compares keys against the entry itself:
//! a lookup touches the entry anyway to update it, so keeping keys out of the index costs no extra
//! cache miss and halves the index.
//!
//! Expiry is by deadline order with a hashing wheel of `WHEEL_SLOTS` lists of `TICK`-long ticks.
//! Refreshing a deadline to later (every packet) touches nothing but the entry: the wheel finds
//! the entry under its old tick and files it again then. Only a deadline moved *earlier* relinks
//! at once. Work per packet is therefore O(1) whatever the table size; the wheel's work is spread
//! over the ticks.

use super::entry::{status, Conn, Link, NIL};
use super::tuple::{Address, Dir, Tuple};
use crate::time::Instant;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// log2 of a tick in nanoseconds: 2^26 ns ≈ 67 ms.
const TICK_SHIFT: u32 = 26;
const WHEEL_SLOTS: usize = 4096;
const WHEEL_MASK: u64 = WHEEL_SLOTS as u64 - 1;

fn tick_of(t: Instant) -> u64 {
    t.as_nanos() >> TICK_SHIFT
}

/// Where a tuple was found: the entry's slot and which of its tuples matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub slot: u32,
    pub dir: Dir,
}

/// Why an entry left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Expired,
    Evicted,
    Removed,
    Killed,
}

pub struct Table<A> {
    index: HashTable<u32>,
    slots: Vec<Conn<A>>,
    free: u32,
    len: usize,
    hasher: foldhash::fast::RandomState,
    wheel: Box<[u32]>,
    /// The tick the wheel has processed up to (its slot is processed again on the next call).
    cursor: u64,
}

impl<A: Address> Table<A> {
    pub fn new() -> Self {
        Table {
            index: HashTable::new(),
            slots: Vec::new(),
            free: NIL,
            len: 0,
            hasher: foldhash::fast::RandomState::default(),
            wheel: vec![NIL; WHEEL_SLOTS].into_boxed_slice(),
            cursor: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reserves room for `n` more entries (benchmarks and start-up sizing).
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
        self.index.reserve(2 * n, |_| 0);
    }

    /// Bytes held by the table's storage (slab, index, wheel), for the memory figure.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Conn<A>>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.wheel.len() * 4
    }

    fn hash(&self, t: &Tuple<A>) -> u64 {
        self.hasher.hash_one(t)
    }

    pub fn get(&self, slot: u32) -> &Conn<A> {
        &self.slots[slot as usize]
    }

    /// The live entry in `slot`, if there is one.
    pub fn get_live(&self, slot: u32) -> Option<&Conn<A>> {
        self.slots
            .get(slot as usize)
            .filter(|c| c.has(status::LIVE))
    }

    pub fn get_mut(&mut self, slot: u32) -> &mut Conn<A> {
        &mut self.slots[slot as usize]
    }

    pub fn find(&self, t: &Tuple<A>) -> Option<Found> {
        let slots = &self.slots;
        self.index
            .find(self.hash(t), |&v| {
                slots[(v >> 1) as usize].tuples[(v & 1) as usize] == *t
            })
            .map(|&v| Found {
                slot: v >> 1,
                dir: if v & 1 == 0 { Dir::Orig } else { Dir::Reply },
            })
    }

    fn index_insert(&mut self, slot: u32, dir: Dir) {
        let t = self.slots[slot as usize].tuples[dir.index()];
        let h = self.hash(&t);
        let slots = &self.slots;
        let hasher = &self.hasher;
        self.index.insert_unique(h, slot << 1 | dir as u32, |&v| {
            hasher.hash_one(slots[(v >> 1) as usize].tuples[(v & 1) as usize])
        });
    }

    fn index_remove(&mut self, slot: u32, dir: Dir) {
        let t = self.slots[slot as usize].tuples[dir.index()];
        let key = slot << 1 | dir as u32;
        if let Ok(e) = self.index.find_entry(self.hash(&t), |&v| v == key) {
            e.remove();
        }
    }

    /// Inserts `conn` under both its tuples and files it in the wheel. The caller has checked
    /// that neither tuple is present.
    pub fn insert(&mut self, mut conn: Conn<A>) -> u32 {
        conn.status |= status::LIVE;
        conn.link = Link::default();
        let slot = if self.free != NIL {
            let s = self.free;
            self.free = self.slots[s as usize].link.next;
            self.slots[s as usize] = conn;
            s
        } else {
            self.slots.push(conn);
            (self.slots.len() - 1) as u32
        };
        self.index_insert(slot, Dir::Orig);
        if conn.tuples[1] != conn.tuples[0] {
            self.index_insert(slot, Dir::Reply);
        }
        self.schedule(slot);
        self.len += 1;
        slot
    }

    /// Replaces the reply tuple (NAT), re-indexing it. The caller has checked it is free.
    pub fn set_reply(&mut self, slot: u32, reply: Tuple<A>) {
        let c = &self.slots[slot as usize];
        if c.tuples[1] != c.tuples[0] {
            self.index_remove(slot, Dir::Reply);
        }
        self.slots[slot as usize].tuples[1] = reply;
        if reply != self.slots[slot as usize].tuples[0] {
            self.index_insert(slot, Dir::Reply);
        }
    }

    pub fn remove(&mut self, slot: u32) -> Conn<A> {
        let conn = self.slots[slot as usize];
        debug_assert!(conn.has(status::LIVE));
        self.index_remove(slot, Dir::Orig);
        if conn.tuples[1] != conn.tuples[0] {
            self.index_remove(slot, Dir::Reply);
        }
        self.unlink(slot);
        let c = &mut self.slots[slot as usize];
        *c = Conn::vacant();
        c.link.next = self.free;
        self.free = slot;
        self.len -= 1;
        conn
    }

    /// Sets a new deadline. Later deadlines are filed lazily; earlier ones relink now.
    pub fn set_deadline(&mut self, slot: u32, deadline: Instant) {
        let c = &mut self.slots[slot as usize];
        c.deadline = deadline;
        let tick = tick_of(deadline).max(self.cursor) as u32;
        if (tick.wrapping_sub(c.link.tick) as i32) < 0 {
            self.unlink(slot);
            self.schedule(slot);
        }
    }

    fn schedule(&mut self, slot: u32) {
        let tick = tick_of(self.slots[slot as usize].deadline).max(self.cursor);
        let head = &mut self.wheel[(tick & WHEEL_MASK) as usize];
        let old = *head;
        *head = slot;
        let c = &mut self.slots[slot as usize];
        c.link = Link {
            next: old,
            prev: NIL,
            tick: tick as u32,
        };
        if old != NIL {
            self.slots[old as usize].link.prev = slot;
        }
    }

    fn unlink(&mut self, slot: u32) {
        let Link { next, prev, tick } = self.slots[slot as usize].link;
        if prev != NIL {
            self.slots[prev as usize].link.next = next;
        } else {
            let head = &mut self.wheel[(u64::from(tick) & WHEEL_MASK) as usize];
            if *head == slot {
                *head = next;
            }
        }
        if next != NIL {
            self.slots[next as usize].link.prev = prev;
        }
        let l = &mut self.slots[slot as usize].link;
        l.next = NIL;
        l.prev = NIL;
    }

    /// Removes every entry whose deadline is at or before `now`, calling `gone` for each.
    /// Work is bounded by the entries filed under the ticks since the last call (at most one
    /// lap of the wheel).
    pub fn expire(&mut self, now: Instant, mut gone: impl FnMut(&Conn<A>)) {
        let end = tick_of(now);
        if end < self.cursor {
            return;
        }
        let start = if end - self.cursor >= WHEEL_SLOTS as u64 {
            end + 1 - WHEEL_SLOTS as u64
        } else {
            self.cursor
        };
        for t in start..=end {
            let idx = (t & WHEEL_MASK) as usize;
            let mut cur = std::mem::replace(&mut self.wheel[idx], NIL);
            // The list is detached; entries not due are filed again (possibly into this slot,
            // for a later lap or later in this tick).
            self.cursor = t;
            while cur != NIL {
                let next = self.slots[cur as usize].link.next;
                let deadline = self.slots[cur as usize].deadline;
                if deadline <= now {
                    let conn = self.remove_detached(cur);
                    gone(&conn);
                } else {
                    self.schedule(cur);
                }
                cur = next;
            }
        }
        self.cursor = end;
    }

    /// `remove` for an entry already taken off its wheel list.
    fn remove_detached(&mut self, slot: u32) -> Conn<A> {
        let conn = self.slots[slot as usize];
        self.index_remove(slot, Dir::Orig);
        if conn.tuples[1] != conn.tuples[0] {
            self.index_remove(slot, Dir::Reply);
        }
        let c = &mut self.slots[slot as usize];
        *c = Conn::vacant();
        c.link.next = self.free;
        self.free = slot;
        self.len -= 1;
        conn
    }

    /// Looks for an entry to evict near the front of the wheel (the soonest to expire), skipping
    /// `keep`. Bounded: at most `max_slots` ticks and `max_entries` entries are examined.
    pub fn find_evictable(
        &self,
        keep: Option<u32>,
        max_slots: usize,
        max_entries: usize,
    ) -> Option<u32> {
        let mut seen = 0;
        for i in 0..max_slots.min(WHEEL_SLOTS) as u64 {
            let mut cur = self.wheel[((self.cursor + i) & WHEEL_MASK) as usize];
            while cur != NIL {
                let c = &self.slots[cur as usize];
                if Some(cur) != keep && c.evictable() {
                    return Some(cur);
                }
                seen += 1;
                if seen >= max_entries {
                    return None;
                }
                cur = c.link.next;
            }
        }
        None
    }

    /// Every live entry, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Conn<A>)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, c)| c.has(status::LIVE))
            .map(|(i, c)| (i as u32, c))
    }

    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.free = NIL;
        self.len = 0;
        self.wheel.fill(NIL);
    }
}

impl<A: Address> Default for Table<A> {
    fn default() -> Self {
        Self::new()
    }
}
