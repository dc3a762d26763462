/** The demo server's account and mailbox tables, shared by the server child and the load generator. */

/** Login names and passwords the server accepts over AUTH PLAIN and LOGIN. */
export const ACCOUNTS: Readonly<Record<string, string>> = {
  'relay-1': 'correct horse 1',
  'relay-2': 'correct horse 2',
  'relay-3': 'correct horse 3',
  'relay-4': 'correct horse 4',
};

/** Addresses with a mailbox; any other recipient is refused with 550. */
export const MAILBOXES: readonly string[] = [
  'alice@example.org',
  'bob@example.org',
  'carol@example.org',
  'dave@example.org',
  'erin@example.org',
  'frank@example.org',
  'grace@example.org',
  'heidi@example.org',
];

/** The message size limit the server announces and enforces. */
export const SIZE_LIMIT = 64 * 1024;

/** The maildir folder of an address: its local part. */
export function mailboxFolder(address: string): string {
  return address.slice(0, address.indexOf('@'));
}
