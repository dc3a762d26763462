import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { debianPackages, findProgram, installCommand, isCi, missingMessage } from './programs.js';
import { closingLine, countResults, type JsonReport, missingProgramsLine } from './run-summary.js';

const dir = mkdtempSync(join(tmpdir(), 'mt-programs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findProgram', () => {
  it('finds an executable file on PATH, first directory first, and nothing else', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => join(dir, d)) as [string, string, string];
    for (const d of [a, b, c]) mkdirSync(d);
    writeFileSync(join(a, 'tool'), 'not executable');
    mkdirSync(join(b, 'tool'));
    writeFileSync(join(c, 'tool'), '#!/bin/sh\n');
    chmodSync(join(c, 'tool'), 0o755);
    const path = ['', a, b, c].join(delimiter);
    expect(findProgram('tool', path)).toBe(join(c, 'tool'));
    expect(findProgram('tool', [a, b].join(delimiter))).toBeUndefined();
    expect(findProgram('absent', path)).toBeUndefined();
    expect(findProgram('tool', '')).toBeUndefined();
  });
});

describe('install commands', () => {
  it('name each Debian package once', () => {
    expect(debianPackages(['promtool', 'chromium', 'promtool'])).toEqual(['prometheus', 'chromium']);
    expect(installCommand(['prometheus-alertmanager', 'fail2ban-regex'])).toBe(
      'apt-get install -y --no-install-recommends prometheus-alertmanager fail2ban',
    );
    expect(missingMessage('promtool')).toContain('`apt-get install -y --no-install-recommends prometheus`');
  });

  it('treat CI as set unless empty, 0 or false', () => {
    expect([undefined, '', '0', 'false', 'FALSE'].map((CI) => isCi(CI === undefined ? {} : { CI }))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(['true', '1', 'yes'].map((CI) => isCi({ CI }))).toEqual([true, true, true]);
  });
});

describe('the closing lines of npm test', () => {
  const report: JsonReport = {
    testResults: [
      {
        name: '/repo/test/metrics/exposition.test.ts',
        status: 'passed',
        assertionResults: [
          { status: 'passed', meta: {} },
          { status: 'skipped', meta: { needsProgram: 'promtool', programMissing: true } },
          { status: 'skipped', meta: { needsProgram: 'promtool', programMissing: true } },
        ],
      },
      {
        name: '/repo/test/dashboard/browser.test.ts',
        status: 'failed',
        assertionResults: [
          { status: 'skipped', meta: { needsProgram: 'chromium', programMissing: true } },
          { status: 'failed', meta: {} },
          { status: 'todo' },
        ],
      },
      { name: '/repo/test/broken.test.ts', status: 'failed', assertionResults: [] },
      { name: '/repo/test/other.test.ts', status: 'passed', assertionResults: [{ status: 'skipped', meta: {} }] },
    ],
  };

  it('count a file that failed outside any test as one failure, and todo tests as skipped', () => {
    expect(countResults(report)).toEqual({ passed: 1, failed: 2, skipped: 5 });
    expect(closingLine(countResults(report))).toBe('1 passed, 2 failed, 5 skipped');
    expect(closingLine({ passed: 3, failed: 0, skipped: 0 })).toBe('3 passed, 0 failed');
  });

  it('name the programs, the files whose tests were skipped, and one install command', () => {
    expect(missingProgramsLine(report, '/repo')).toBe(
      '3 tests skipped because a program is not on PATH: chromium (test/dashboard/browser.test.ts); promtool (test/metrics/exposition.test.ts). ' +
        'Install with `apt-get install -y --no-install-recommends chromium prometheus` as root, or run `npm test` as root',
    );
  });

  it('name the tests that failed for a missing program under CI, and nothing for a found one that failed', () => {
    const ci: JsonReport = {
      testResults: [
        {
          name: '/repo/test/alerts/alertmanager.test.ts',
          status: 'failed',
          assertionResults: [
            { status: 'failed', meta: { needsProgram: 'prometheus-alertmanager', programMissing: true } },
            { status: 'failed', meta: { needsProgram: 'promtool' } },
          ],
        },
      ],
    };
    expect(missingProgramsLine(ci, '/repo')).toBe(
      '1 test failed (CI is set) because a program is not on PATH: prometheus-alertmanager (test/alerts/alertmanager.test.ts). ' +
        'Install with `apt-get install -y --no-install-recommends prometheus-alertmanager` as root, or run `npm test` as root',
    );
  });

  it('say nothing when every program was found, and ignore unknown program names', () => {
    const ran: JsonReport = {
      testResults: [
        {
          name: '/repo/t.test.ts',
          status: 'passed',
          assertionResults: [
            { status: 'passed', meta: { needsProgram: 'promtool' } },
            { status: 'skipped', meta: { needsProgram: 'promtool' } },
            { status: 'skipped', meta: { needsProgram: 'toString', programMissing: true } },
          ],
        },
      ],
    };
    expect(missingProgramsLine(ran, '/repo')).toBeUndefined();
  });
});
