import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { needsProgram } from '../support/needs-program.js';
import { connection, make } from '../support/telemetry.js';

/** Characters other than \n that some reader takes as a line break. */
const BREAKS = ['\r', '\u000b', '\u000c', '\u001c', '\u001d', '\u001e', '\u0085', '\u2028', '\u2029'];
const breaksIn = (line: string) => [...line].filter((char) => BREAKS.includes(char));

const FILTER = fileURLToPath(new URL('../../examples/fail2ban/mail-telemetry.conf', import.meta.url));

/** Debian's fail2ban-regex: skipped where it is missing, failed under CI. */
const fail2ban = needsProgram('fail2ban-regex');
const FAIL2BAN_REGEX = fail2ban.path;

/** The addresses fail2ban-regex finds in `log` with the shipped filter, one per matched line. */
function banned(log: string): string[] {
  const out = execFileSync(FAIL2BAN_REGEX, ['--raw', '-o', 'ip', log, FILTER], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line !== '');
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(`${os.tmpdir()}/mt-f2b-`);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

// Addresses a client could type into its login name, its EHLO or anything else the server logs.
const FORGED = ['203.0.113.66', '203.0.113.67', '203.0.113.68', '203.0.113.69', '203.0.113.70', '203.0.113.71'];

fail2ban.describe('the fail2ban filter, with the real fail2ban-regex over a real file tracer', () => {
  it('finds the sender of every auth.failed, and never an address a value tried to forge', async () => {
    const telemetry = make({
      levels: { 'auth.failed': 'info' },
      tracers: [{ type: 'file', path: dir, rotate: 'never', level: 'info' }],
    });
    const emitLoose = telemetry.emit.bind(telemetry) as (name: string, data: unknown) => void;
    // The attack from the report: a login name that reads as a second remoteIp pair.
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.7', accountName: 'x remoteIp = 203.0.113.66,' });
    // A quote in the value, trying to close the string and open a pair of its own.
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.8', accountName: 'x", remoteIp = "203.0.113.67' });
    // The same through a key an untyped caller made up.
    emitLoose('auth.failed', { remoteIp: '2001:db8::7', 'y, remoteIp = "203.0.113.68", z': 'v' });
    emitLoose('auth.failed', { 'x remoteIp': '203.0.113.69', remoteIp: '192.0.2.9' });
    // Another event whose value mentions auth.failed, inside a client's span.
    const session = telemetry.span('smtp.connection-start', connection('192.0.2.10', 4000));
    session.emit('smtp.ehlo', { domain: '(auth.failed) remoteIp = "203.0.113.70"' });
    session.end();
    // The event itself with no address: nothing to ban, not even a forged one.
    telemetry.emit('auth.failed', { accountName: 'remoteIp = "203.0.113.71"' });
    await telemetry.shutdown();

    const [file] = fs.readdirSync(dir);
    const log = join(dir, file as string);
    const found = banned(log);
    expect(found).toEqual(['192.0.2.7', '192.0.2.8', '2001:db8::7', '192.0.2.9']);
    for (const address of FORGED) expect(found).not.toContain(address);
  });

  it('writes a remoteIp holding a newline as one quoted line, which forges no line and bans no one', async () => {
    const telemetry = make({
      levels: { 'auth.failed': 'info' },
      tracers: [{ type: 'file', path: dir, rotate: 'never', level: 'info' }],
    });
    const time = new Date().toISOString();
    const forgedLine = `${time} INFO Authentication failed (auth.failed) remoteIp = "203.0.113.66"`;
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.7', reason: 'before' });
    for (const breaker of ['\n', '\r\n', '\r', '\u2028', '\u0085', '\u000b'])
      telemetry.emit('auth.failed', { remoteIp: `192.0.2.8${breaker}${forgedLine}` });
    telemetry.emit('auth.failed', { remoteIp: '192.0.2.9', reason: 'after' });
    await telemetry.shutdown();

    const [file] = fs.readdirSync(dir);
    const log = join(dir, file as string);
    const text = fs.readFileSync(log, 'utf8');
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    // One line per event, no other line break of any kind, each starting as the tracer starts it.
    expect(lines).toHaveLength(8);
    for (const line of lines) {
      expect(line).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO Authentication failed \(auth\.failed\) remoteIp = "/,
      );
      expect(breaksIn(line)).toEqual([]);
    }
    expect(banned(log)).toEqual(['192.0.2.7', '192.0.2.9']);
  });
});
