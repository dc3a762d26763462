/**
 * The load of `npm run bench:adapter`: SMTP sessions over raw sockets (EHLO, AUTH PLAIN, MAIL, RCPT,
 * DATA, QUIT, one step per reply), `concurrency` at a time, in a process of its own so that its CPU
 * is not the server's. Arguments: port, sessions, concurrency.
 */
import net from 'node:net';

const [port = 0, sessions = 0, concurrency = 1] = process.argv.slice(2).map(Number);
const body = `From: a@example.net\r\nTo: bob@example.org\r\nMessage-ID: <x@example.net>\r\nSubject: hi\r\n\r\n${'Lorem ipsum dolor sit amet. '.repeat(30)}\r\n.\r\n`;
const steps = [
  'EHLO client.example.net\r\n',
  `AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}\r\n`,
  'MAIL FROM:<a@example.net>\r\n',
  'RCPT TO:<bob@example.org>\r\n',
  'DATA\r\n',
  body,
  'QUIT\r\n',
];

function session(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let step = -1;
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.endsWith('\r\n')) return;
      const lines = text.split('\r\n').filter((line) => line !== '');
      // A multi-line reply (250-…) is not over until its last line.
      if (/^\d{3}-/.test(lines[lines.length - 1] ?? '')) return;
      text = '';
      step++;
      if (step < steps.length) socket.write(steps[step] as string);
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < sessions) {
      next++;
      await session();
    }
  }),
);
