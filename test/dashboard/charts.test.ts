/**
 * The Charts view in headless Chromium, against the example mail server after real mail: every
 * chart draws its points from the history's series, with time and unit axes, at 1280×800 and at a
 * phone's width, by keyboard, with no console error.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, message } from '../../examples/mail-server/client.js';
import { type MailServer, startMailServer } from '../../examples/mail-server/server.js';
import { chromiumProgram, openAdmin, useBrowser } from './setup.js';

useBrowser();

const SHOTS = new URL('../../.artifacts/dashboard/', import.meta.url);
const CHARTS = ['connections', 'messages', 'auth', 'delivery', 'queue', 'delivery-time', 'message-size'];
let mx: MailServer;

beforeAll(async () => {
  if (!chromiumProgram.found) return;
  mkdirSync(SHOTS, { recursive: true });
  mx = await startMailServer({ console: false, log: () => {}, seriesInterval: 250 });
  await mx.telemetry.history.snapshot(); // the baseline: counters then count from here
  const anonymous = client({ port: mx.smtpPort, login: 'none' });
  for (let i = 0; i < 3; i++)
    await anonymous.sendMail(message('carol@example.org', `bob+chart${i}@example.org`, `chart ${i}`, 800 * (i + 1)));
  await expect(anonymous.sendMail(message('carol@example.org', 'ghost@example.org', 'lost'))).rejects.toThrow(/550/);
  anonymous.close();
  const bad = client({ port: mx.smtpPort, login: 'bad' });
  await expect(bad.sendMail(message('eve@example.org', 'bob@example.org', 'x'))).rejects.toThrow();
  bad.close();
  await mx.delivered();
  await mx.telemetry.flush();
  await mx.telemetry.history.snapshot();
}, 60_000);

afterAll(async () => {
  await mx?.close();
});

chromiumProgram.describe('the Charts view in headless Chromium', () => {
  it('draws every chart with points, time and unit axes, live values, at 1280×800 and phone width, by keyboard', async () => {
    const { page, log } = await openAdmin(mx);
    await page.locator('#tab-charts').focus();
    await page.keyboard.press('Enter');
    await page.locator('#charts-info', { hasText: /series points/ }).waitFor();

    for (const id of CHARTS) {
      const svg = page.locator(`figure[data-chart="${id}"] svg`);
      expect(Number(await svg.getAttribute('data-points')), `${id} has points`).toBeGreaterThan(0);
      expect(await svg.locator('circle.point').count(), id).toBe(Number(await svg.getAttribute('data-points')));
      expect(await svg.locator('polyline.line').count(), id).toBeGreaterThan(0);
      // Five time labels on the x axis, three values and the unit on the y axis.
      expect(await svg.locator('text.tick.x').count(), id).toBe(5);
      expect(await svg.locator('text.tick.y').count(), id).toBe(3);
      for (const t of await svg.locator('text.tick.x').allTextContents()) expect(t, id).toMatch(/\d{1,2}:\d{2}/);
    }
    const unit = (id: string) => page.locator(`figure[data-chart="${id}"] text.unit:not(.x)`).textContent();
    expect(await unit('connections')).toMatch(/^connections \/ \d+ s$/);
    expect(await unit('queue')).toBe('messages');
    expect(await unit('delivery-time')).toBe('ms');
    expect(await unit('message-size')).toBe('bytes');
    // The mail sent shows: the top of each counter chart's y axis is above zero, and the points say what they count.
    const titles = async (id: string) => page.locator(`figure[data-chart="${id}"] circle.point title`).allTextContents();
    const total = (list: string[], label: string) =>
      list
        .filter((t) => t.startsWith(`${label}:`))
        .reduce((a, t) => a + Number(/: ([\d.,]+)/.exec(t)?.[1]?.replace(/,/g, '')), 0);
    expect(total(await titles('connections'), 'opened')).toBeGreaterThanOrEqual(3);
    expect(total(await titles('messages'), 'accepted')).toBe(3);
    expect(total(await titles('messages'), 'refused')).toBe(1);
    expect(total(await titles('auth'), 'failed')).toBeGreaterThanOrEqual(1);
    expect(total(await titles('delivery'), 'delivered')).toBe(3);
    const sizes = await titles('message-size');
    expect(
      sizes.some((t) => /^mean: [\d,.]+ bytes$/.test(t) && !t.startsWith('mean: 0 ')),
      sizes.join('; '),
    ).toBe(true);
    // Percentiles from the stored events: three messages queued, three delivered.
    for (const [id, unit] of [
      ['message-size', 'bytes'],
      ['delivery-time', 'ms'],
    ] as const) {
      const all = await titles(id);
      const value = (label: string) =>
        all.filter((t) => t.startsWith(`${label}:`)).map((t) => Number(/: ([\d.,]+)/.exec(t)?.[1]?.replace(/,/g, '')));
      expect(value('p50').length, all.join('; ')).toBeGreaterThan(0);
      expect(Math.max(...value('p95')), all.join('; ')).toBeGreaterThanOrEqual(Math.max(...value('p50')));
      expect(all.every((t) => t.endsWith(` ${unit}`))).toBe(true);
      expect(await page.locator(`figure[data-chart="${id}"] .legend .now`, { hasText: 'of 3 stored events' }).count()).toBe(2);
    }
    // Live values from the metric frames sit in the legends.
    await page.locator('figure[data-chart="auth"] .legend .now', { hasText: /since start/ }).waitFor();

    // Keyboard: the charts are reachable by Tab after the controls.
    await page.locator('#charts-refresh').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.dataset.chart')).toBe('connections');
    expect(await page.evaluate('document.activeElement.getAttribute("aria-label")')).toMatch(
      /^SMTP connections, connections \/ /,
    );
    // The 6 h range reads again with coarser steps.
    await page.locator('#charts-range').selectOption('6');
    await page.locator('figure[data-chart="connections"] text.unit', { hasText: /\/ 3 min$/ }).waitFor();
    await page.locator('#charts-range').selectOption('1');
    await page.locator('figure[data-chart="connections"] text.unit', { hasText: /\/ 30 s$/ }).waitFor();
    await page.screenshot({ path: new URL('charts.png', SHOTS).pathname, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: new URL('charts-phone.png', SHOTS).pathname, fullPage: true });
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  }, 60_000);
});
