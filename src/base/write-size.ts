/**
 * Characters of text joined into one string for one write: a tracer's lines, a part of a live frame.
 * A busy batch goes out in several writes of about this size. One string of the whole batch (a
 * megabyte, for a busy second) lands in V8's large-object space, past 128 KiB, where it is several
 * times slower per line to make, to encode and to write than strings this size.
 */
export const WRITE_CHARS = 49_152;
