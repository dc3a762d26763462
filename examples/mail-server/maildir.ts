import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The demo's mail domain, its mailboxes and its one login. */
export const DOMAIN = 'example.org';
export const MAILBOXES = ['postmaster', 'alice', 'bob', 'carol'] as const;
export const ACCOUNT = { username: 'alice', password: 'wonderland' } as const;

/** Maildir delivery (`tmp/` then a rename into `new/`), one folder per mailbox under `root`. */
export class Maildir {
  readonly root: string;
  #sequence = 0;

  constructor(root: string) {
    this.root = root;
  }

  async create(): Promise<void> {
    for (const box of MAILBOXES)
      for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(this.root, box, sub), { recursive: true });
  }

  /** The mailbox an address delivers to (`bob+tag@` is bob's), or `undefined` when there is none. */
  mailbox(address: string): string | undefined {
    const at = address.lastIndexOf('@');
    const local = address.slice(0, at).toLowerCase().split('+')[0] ?? '';
    const domain = address.slice(at + 1).toLowerCase();
    return domain === DOMAIN && (MAILBOXES as readonly string[]).includes(local) ? local : undefined;
  }

  /** Delivers one message into a mailbox: written in `tmp/`, then renamed into `new/` whole. */
  async deliver(box: string, message: Buffer): Promise<void> {
    const name = `${Date.now()}.${process.pid}_${++this.#sequence}.${randomBytes(4).toString('hex')}.${hostname()}`;
    const temporary = join(this.root, box, 'tmp', name);
    await writeFile(temporary, message);
    await rename(temporary, join(this.root, box, 'new', name));
  }

  /** The messages in a mailbox's `new/`. */
  async messages(box: string): Promise<Buffer[]> {
    const folder = join(this.root, box, 'new');
    const names = await readdir(folder);
    return Promise.all(names.map((name) => readFile(join(folder, name))));
  }
}
