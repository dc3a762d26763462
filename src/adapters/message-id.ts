/** Reading a message's Message-ID from its header block, for both adapters. */

const MAX_ID_LENGTH = 998;

/** The most header bytes read; a header block longer than this yields no Message-ID. */
export const MAX_HEADER_BYTES = 65_536;

const BLANK_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const BLANK_LF = Buffer.from('\n\n', 'latin1');

/** Where the header block ends in `text` (the index of its blank line), or -1 when it has not ended. */
export function headerEnd(text: string): number {
  if (text.startsWith('\r\n') || text.startsWith('\n')) return 0;
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  return crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
}

/**
 * Where the header block ends in a message's first bytes (the index of its blank line), or -1 when
 * it has not ended within them or within {@link MAX_HEADER_BYTES}. Searched in the bytes, so that only
 * the header block is ever decoded, and never past the first blank line.
 */
export function bytesHeaderEnd(bytes: Uint8Array): number {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, MAX_HEADER_BYTES));
  if (view[0] === 0x0a || (view[0] === 0x0d && view[1] === 0x0a)) return 0;
  // Byte needles: a string needle is converted to bytes again at every search.
  const crlf = view.indexOf(BLANK_CRLF);
  const lf = (crlf < 0 ? view : view.subarray(0, crlf + 1)).indexOf(BLANK_LF);
  return lf >= 0 ? lf : crlf;
}

/** The first Message-ID header's value, unfolded and trimmed; `undefined` when there is none. */
export function messageIdOf(header: string): string | undefined {
  // The header line and its continuation lines only: the rest of the block is never unfolded.
  const match = /^message-id[ \t]*:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(header);
  const value = match?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_ID_LENGTH);
}

/** The Message-ID of a whole raw message given as text or bytes; `undefined` for any other value. */
export function rawMessageId(raw: unknown): string | undefined {
  let text: string;
  if (typeof raw === 'string') text = raw.slice(0, MAX_HEADER_BYTES);
  else if (raw instanceof Uint8Array) {
    const end = bytesHeaderEnd(raw);
    const length = end >= 0 ? end : Math.min(raw.byteLength, MAX_HEADER_BYTES);
    return messageIdOf(Buffer.from(raw.buffer, raw.byteOffset, length).toString('latin1'));
  } else return undefined;
  const end = headerEnd(text);
  return messageIdOf(end >= 0 ? text.slice(0, end) : text);
}
