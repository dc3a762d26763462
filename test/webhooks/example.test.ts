import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

describe('examples/webhooks-receiver.ts', () => {
  it('runs as written: verifies both signatures, sees a retry, exits by itself', () => {
    const out = execFileSync(process.execPath, [tsx, 'examples/webhooks-receiver.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toContain('receiver: 503 to the first request');
    expect(out).toContain('receiver: smtp.mail-from {"from":"bill@example.org"');
    expect(out).toContain('sender: delivered 5 events in 1 request(s), 1 failed attempt(s)');
    expect(out).toContain('sender: shutdown complete=true, pending=0');
    expect(out).not.toContain('MfKQ9r8G');
  });
});
