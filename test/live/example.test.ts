import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

describe('examples/live-server.ts', () => {
  it('runs as written: refuses without a token, streams the filtered session, exits', () => {
    const out = execFileSync(process.execPath, [tsx, 'examples/live-server.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toContain('without a token: 401');
    expect(out).toContain('ping {"interval":30000}');
    expect(out).toContain('smtp.rcpt-to (SMTP RCPT TO received)');
    expect(out).toContain('"remoteIp":"192.0.2.10"');
    expect(out).not.toContain('198.51.100.7');
    expect(out).not.toContain('an example key');
    expect(out).toContain('streams left open: 0');
  });
});
