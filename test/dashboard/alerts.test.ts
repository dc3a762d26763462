/**
 * The Alerts view in headless Chromium, against the example mail server: failed logins over real
 * SMTP fire its `failed-logins` rule, and once they leave the rule's 2 s window it resolves; the page
 * shows both, read from `handlers.alerts` with the history's bearer token.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, message } from '../../examples/mail-server/client.js';
import { type MailServer, startMailServer } from '../../examples/mail-server/server.js';
import { chromiumProgram, openAdmin, openPage, useBrowser } from './setup.js';

useBrowser();

const SHOTS = new URL('../../.artifacts/dashboard/', import.meta.url);
let mx: MailServer;

beforeAll(async () => {
  if (!chromiumProgram.found) return;
  mkdirSync(SHOTS, { recursive: true });
  mx = await startMailServer({ console: false, log: () => {}, alertWindow: '2s', alertInterval: '250ms', seriesInterval: 250 });
}, 30_000);

afterAll(async () => {
  await mx?.close();
});

/** The rule's state as the page shows it, refreshing (by keyboard) until it reads `state`. */
async function untilState(page: Page, state: string): Promise<void> {
  const badge = page.locator('#alert-rules tr[data-rule="failed-logins"] [data-state]');
  for (let i = 0; i < 100; i++) {
    if ((await badge.count()) === 1 && (await badge.getAttribute('data-state')) === state) return;
    await page.locator('#alerts-refresh').focus();
    await page.keyboard.press('Enter');
    await page.waitForTimeout(200);
  }
  throw new Error(`the page never showed the rule ${state}`);
}

chromiumProgram.describe('the Alerts view in headless Chromium', () => {
  it('shows the failed-logins rule firing after bad logins, then resolved, with its transitions', async () => {
    const { page, log } = await openAdmin(mx);
    // By keyboard: the Alerts tab is a button.
    await page.locator('#tab-alerts').focus();
    await page.keyboard.press('Enter');
    await page.locator('#alert-rules tr[data-rule="failed-logins"]').waitFor();
    expect(await page.locator('#alert-rules tr[data-rule="failed-logins"] [data-state]').getAttribute('data-state')).toBe(
      'inactive',
    );
    expect(await page.locator('#transitions-empty').isVisible()).toBe(true);

    const bad = client({ port: mx.smtpPort, login: 'bad' });
    for (let i = 0; i < 2; i++) await expect(bad.sendMail(message('eve@example.org', 'bob@example.org', 'x'))).rejects.toThrow();
    bad.close();

    await untilState(page, 'firing');
    const row = page.locator('#alert-rules tr[data-rule="failed-logins"]');
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('failed-logins');
    expect(Number(cells[2])).toBeGreaterThan(0);
    expect(cells[4]).toContain("increase(metric('auth.failed'), '2s') > 0");
    expect(cells[5]).toBe('severity=warning');
    await page.screenshot({ path: new URL('alerts-firing.png', SHOTS).pathname });

    await untilState(page, 'resolved');
    const transitions = await page
      .locator('#alert-transitions tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('[data-state]')].map((b) => b.getAttribute('data-state'))));
    // Newest first: firing → resolved above inactive → firing (perhaps through pending).
    expect(transitions[0]).toEqual(['firing', 'resolved']);
    expect(transitions.some((t) => t[1] === 'firing')).toBe(true);
    expect(await page.locator('#transitions-empty').isVisible()).toBe(false);

    // Phone width: nothing overflows sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: new URL('alerts-phone.png', SHOTS).pathname, fullPage: true });
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  }, 60_000);

  it('says so when the alerts refuse the page (no history token)', async () => {
    const { page, log } = await openPage(`${mx.adminUrl}/dashboard`);
    await page.locator('#tab-alerts').click();
    await page.locator('#alerts-info', { hasText: 'the alerts refused this page' }).waitFor();
    expect(log.violations).toEqual([]);
    // The refused fetch itself is the only console error Chromium logs.
    expect(log.errors.every((e) => e.includes('401'))).toBe(true);
  });
});
