/**
 * The load: `concurrency` nodemailer clients send `messages` small authenticated messages to the server
 * child, one SMTP session per message, as remote MTAs do. One message in 60 logs in with a wrong
 * password (refused, never delivered) and one in 30 adds an unknown recipient (that recipient is
 * refused with 550, the message is still delivered). The round ends when every deliverable message
 * has reached a maildir's new/ folder, seen through inotify (fs.watch) and checked with readdir.
 */
import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { ACCOUNTS, MAILBOXES, mailboxFolder } from './accounts.js';

export interface LoadResult {
  /** From the first send to the last maildir file, ms. */
  readonly wallMs: number;
  readonly sent: number;
  readonly delivered: number;
  /** Sessions refused at AUTH, as planned. */
  readonly authRefused: number;
  /** Recipients refused with 550, as planned. */
  readonly recipientsRefused: number;
  /** Failures nobody planned; the first one's text. */
  readonly unexpected: number;
  readonly firstUnexpected: string | undefined;
}

type Kind = 'ok' | 'bad-auth' | 'unknown-recipient';

function kindOf(index: number): Kind {
  if (index % 60 === 59) return 'bad-auth';
  if (index % 30 === 14) return 'unknown-recipient';
  return 'ok';
}

/** How many of `messages` should reach a maildir. */
export function deliverable(messages: number): number {
  let count = 0;
  for (let i = 0; i < messages; i++) if (kindOf(i) !== 'bad-auth') count++;
  return count;
}

const BODY = `${'This is a small benchmark message, about the size of a short notification. '.repeat(5)}\n`;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : 'a non-Error value was thrown';
}

/** Counts distinct files renamed into the mailboxes' new/ folders; resolves when `expected` are there. */
function watchDeliveries(maildir: string, expected: number, timeoutMs: number) {
  const seen = new Set<string>();
  const watchers: FSWatcher[] = [];
  let done!: (at: number) => void;
  let fail!: (error: Error) => void;
  const arrived = new Promise<number>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  // Handled here so that a timeout while the senders still run is no unhandled rejection; awaited later.
  arrived.catch(() => undefined);
  const folders = MAILBOXES.map((address) => join(maildir, mailboxFolder(address), 'new'));
  const countOnDisk = (): number => folders.reduce((sum, folder) => sum + readdirSync(folder).length, 0);
  const check = (): void => {
    if (seen.size >= expected) done(performance.now());
  };
  for (const folder of folders) {
    watchers.push(
      watch(folder, (_event, name) => {
        if (name !== null) seen.add(`${folder}/${name}`);
        check();
      }),
    );
  }
  // inotify can overflow under a burst: a slow readdir poll is the safety net.
  const poll = setInterval(() => {
    if (countOnDisk() >= expected) done(performance.now());
  }, 250);
  const timer = setTimeout(
    () => fail(new Error(`only ${countOnDisk()} of ${expected} messages reached the maildir within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const close = (): number => {
    clearInterval(poll);
    clearTimeout(timer);
    for (const w of watchers) w.close();
    return countOnDisk();
  };
  return { arrived, close };
}

export async function runLoad(port: number, maildir: string, messages: number, concurrency: number): Promise<LoadResult> {
  const expected = deliverable(messages);
  const deliveries = watchDeliveries(maildir, expected, 60_000 + messages * 200);
  const users = Object.keys(ACCOUNTS);
  let next = 0;
  let authRefused = 0;
  let recipientsRefused = 0;
  let unexpected = 0;
  let firstUnexpected: string | undefined;

  async function worker(slot: number): Promise<void> {
    const user = users[slot % users.length] as string;
    const good = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      auth: { user, pass: ACCOUNTS[user] as string },
    });
    const bad = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      auth: { user, pass: 'wrong' },
    });
    for (let index = next++; index < messages; index = next++) {
      const kind = kindOf(index);
      const to = [MAILBOXES[index % MAILBOXES.length] as string];
      if (kind === 'unknown-recipient') to.push(`nobody-${index}@example.org`);
      try {
        const info = await (kind === 'bad-auth' ? bad : good).sendMail({
          from: `sender-${slot}@example.net`,
          to,
          subject: `bench message ${index}`,
          text: BODY,
        });
        recipientsRefused += info.rejected.length;
      } catch (error) {
        if (kind === 'bad-auth' && (error as { code?: unknown }).code === 'EAUTH') authRefused++;
        else {
          unexpected++;
          firstUnexpected ??= describe(error);
        }
      }
    }
    good.close();
    bad.close();
  }

  const start = performance.now();
  const workers = Array.from({ length: Math.min(concurrency, messages) }, (_, slot) => worker(slot));
  try {
    await Promise.all(workers);
    if (unexpected > 0) throw new Error(`${unexpected} sends failed unexpectedly; the first: ${firstUnexpected}`);
    const end = await deliveries.arrived;
    const delivered = deliveries.close();
    return { wallMs: end - start, sent: messages, delivered, authRefused, recipientsRefused, unexpected, firstUnexpected };
  } finally {
    deliveries.close();
  }
}
