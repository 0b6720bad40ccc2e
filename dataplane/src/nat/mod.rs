//! Network address translation: choosing the unique tuple and rewriting packets.
