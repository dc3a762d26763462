import { crypto } from '../base/builtins.js';

/** A bare address: no display name, no spaces, nothing a header could be split on. */
export const ADDRESS = /^[^\s@<>()[\]\\,;:"\p{Cc}]+@[^\s@<>()[\]\\,;:"\p{Cc}]+$/u;

/** What an alert email says and to whom. */
export interface MailParts {
  readonly from: string;
  readonly fromName?: string | undefined;
  readonly to: readonly string[];
  readonly subject: string;
  readonly body: string;
  /** Epoch ms for the Date header. */
  readonly date: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ASCII_PRINTABLE = /^[\u0020-\u007e]*$/;

/**
 * An RFC 5322 message with MIME headers: non-ASCII header text as RFC 2047 encoded words, a body in
 * 7bit when it is plain ASCII with short lines, base64 otherwise, CRLF line ends throughout.
 */
export function buildMessage(parts: MailParts): string {
  const domain = parts.from.slice(parts.from.lastIndexOf('@') + 1);
  const name = parts.fromName === undefined ? undefined : oneLine(parts.fromName);
  const from = name === undefined || name === '' ? parts.from : `${displayName(name)} <${parts.from}>`;
  const body = parts.body.replace(/\r\n|\r|\n/g, '\r\n');
  const plain = ASCII_PRINTABLE.test(body.replaceAll('\r\n', '')) && body.split('\r\n').every((l) => l.length <= 998);
  const headers = [
    `From: ${from}`,
    `To: ${parts.to.join(', ')}`,
    `Subject: ${headerText(oneLine(parts.subject), 'Subject: '.length)}`,
    `Date: ${rfc5322Date(parts.date)}`,
    `Message-ID: <${parts.date.toString(36)}.${crypto().randomBytes(9).toString('hex')}@${domain}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${plain ? '7bit' : 'base64'}`,
  ];
  const encoded = plain
    ? body
    : (
        Buffer.from(body, 'utf8')
          .toString('base64')
          .match(/.{1,76}/g) ?? []
      ).join('\r\n');
  return `${headers.join('\r\n')}\r\n\r\n${encoded}\r\n`;
}

/** `Tue, 24 Nov 2026 22:56:36 +0000`. */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Header injection is impossible once every line break and control character is a space. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ').trim();
}

function displayName(name: string): string {
  if (!ASCII_PRINTABLE.test(name)) return encodedWords(name);
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Plain when ASCII and short enough for one line, otherwise folded encoded words. */
function headerText(text: string, prefix: number): string {
  if (ASCII_PRINTABLE.test(text) && prefix + text.length <= 78 && !/=\?/.test(text)) return text;
  return encodedWords(text);
}

/** RFC 2047 `=?UTF-8?B?...?=` words of at most 64 characters (a line stays under 78), never splitting a character. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > 39) {
      words.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += ch;
    bytes += size;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}
