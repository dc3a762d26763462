import { connect } from 'node:net';

/** What came back on a raw socket. */
export interface RawAnswer {
  /** The status code of the status line, or undefined when none came. */
  readonly status: number | undefined;
  /** Header block, status line included. */
  readonly head: string;
  /** The body (for an event stream: what arrived up to its first frame). */
  readonly body: string;
  /** Everything received, as latin1. */
  readonly text: string;
}

/** A request as a client writes it, `Connection: close` added so that the server ends the answer. */
export function requestText(method: string, target: string, headers: readonly string[] = []): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`;
}

/**
 * Sends raw bytes on a fresh socket and reads the answer: until the server closes it, or for an
 * event stream until its first frame (then the client leaves, as a closing browser tab does).
 * Rejects when nothing at all comes back within `timeout` ms.
 */
export function rawRequest(port: number, request: string | Buffer, timeout = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, head, body: end < 0 ? '' : text.slice(end + 4), text });
    };
    const timer = setTimeout(() => {
      if (text === '') {
        settled = true;
        socket.destroy();
        reject(new Error(`no answer within ${timeout} ms to ${JSON.stringify(String(request).slice(0, 200))}`));
      } else finish();
    }, timeout);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0 && /^content-type: text\/event-stream/im.test(text.slice(0, end)) && text.indexOf('\n\n', end + 4) >= 0)
        finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', () => {
      // A reset after the answer is fine; without one, `finish` reports no status line.
      finish();
    });
  });
}
