/** Reading a message's Message-ID from its header block, for both adapters. */

const MAX_ID_LENGTH = 998;

/** The most header bytes read; a header block longer than this yields no Message-ID. */
export const MAX_HEADER_BYTES = 65_536;

/** Where the header block ends in `text` (the index of its blank line), or -1 when it has not ended. */
export function headerEnd(text: string): number {
  if (text.startsWith('\r\n') || text.startsWith('\n')) return 0;
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  return crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
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
  else if (raw instanceof Uint8Array)
    text = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, MAX_HEADER_BYTES)).toString('latin1');
  else return undefined;
  const end = headerEnd(text);
  return messageIdOf(end >= 0 ? text.slice(0, end) : text);
}
