/**
 * The message search in headless Chromium, against the example mail server (a real smtp-server taking
 * mail from real nodemailer clients and delivering it over SMTP to its maildir), after real mail is
 * sent: a recipient's message and its delivery, a refused recipient's reason, a session that queued
 * nothing, and an attacker's EHLO name, all read from the history handler the page is allowed to read.
 */
import { mkdirSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, message, queueIdOf } from '../../examples/mail-server/client.js';
import { type MailServer, startMailServer } from '../../examples/mail-server/server.js';
import { chromiumProgram, openAdmin, openPage, useBrowser } from './setup.js';

useBrowser();

/** Screenshots, git-ignored: test artefacts to look at, never compared. */
const SHOTS = new URL('../../.artifacts/dashboard/', import.meta.url);
const XSS = '<script>window.__xss=1</script>';
/** Messages to one recipient: more than the page's 20 stored sessions a page. */
const PAGED = 21;

let mx: MailServer;
let queueId: string;

beforeAll(async () => {
  if (!chromiumProgram.found) return;
  mkdirSync(SHOTS, { recursive: true });
  mx = await startMailServer({ console: false, log: () => {} });
  // More messages to one recipient than a page holds, over one pooled session: sent first, so the others are newest.
  const pooled = client({ port: mx.smtpPort, login: 'none', pool: true });
  for (let i = 0; i < PAGED; i++) await pooled.sendMail(message('dave@example.org', 'carol+paged@example.org', `paged ${i}`));
  pooled.close();
  const anonymous = client({ port: mx.smtpPort, login: 'none' });
  // One accepted recipient and one the server refuses (550), in one message.
  const sent = await anonymous.sendMail({
    ...message('carol@example.org', 'bob+search@example.org', 'quarterly report', 1200),
    envelope: { from: 'carol@example.org', to: ['bob+search@example.org', 'nobody@example.org'] },
  });
  queueId = queueIdOf(String(sent.response)) ?? '';
  // Every recipient refused: the session queues nothing, and only its events tell.
  await expect(anonymous.sendMail(message('carol@example.org', 'ghost@example.org', 'lost'))).rejects.toThrow(/550/);
  anonymous.close();
  // A hostile client names itself with markup in its EHLO.
  const hostile = nodemailer.createTransport({
    host: '127.0.0.1',
    port: mx.smtpPort,
    name: XSS,
    tls: { rejectUnauthorized: false },
  });
  await hostile.sendMail(message('mallory@example.org', 'alice+xss@example.org', 'hello'));
  hostile.close();
  await mx.delivered();
  await mx.telemetry.flush();
}, 60_000);

afterAll(async () => {
  await mx?.close();
});

/** The page as an operator opens it: live tokens and the history's bearer token in the fragment. */
function open(hash = '') {
  return openAdmin(mx, hash);
}

/** Searches by keyboard: the field, the value, Enter. */
async function search(page: Page, field: string, value: string) {
  await page.locator('#tab-messages').click();
  await page.locator('#search-field').selectOption(field);
  await page.locator('#search-value').fill(value);
  await page.locator('#search-value').press('Enter');
  await page.locator('#results-info', { hasText: /\d+ messages?/ }).waitFor();
}

chromiumProgram.describe('the message search in headless Chromium', () => {
  it('finds a message by recipient, and its timeline shows the session, the refusal and the delivery', async () => {
    const { page, log } = await open();
    await search(page, 'to', 'bob+search@example.org');
    const row = page.locator('#results tr', { hasText: queueId });
    await row.waitFor();
    expect(await page.locator('#results tr').count()).toBe(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual([
      queueId,
      'carol@example.org',
      'bob+search@example.orgnobody@example.org',
      expect.stringMatching(/KiB$/),
    ]);
    expect(await row.locator('.outcome').allTextContents()).toEqual(['delivered', 'refused']);

    // Keyboard: the queue id is a link; Enter opens the timeline and the fragment names the message.
    await row.locator('a').focus();
    await page.keyboard.press('Enter');
    const timeline = page.locator('#timeline');
    await timeline.locator('h3', { hasText: `Message ${queueId}` }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#message=${queueId}`);
    const spans = timeline.locator('section.span h4');
    expect(await spans.allTextContents()).toEqual([
      expect.stringMatching(/^Inbound session from 127\.0\.0\.1, EHLO /),
      expect.stringMatching(/^Delivery attempt 1 to 127\.0\.0\.1/),
    ]);
    const inbound = timeline.locator('section.span').first();
    const types = await inbound.locator('.event').evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
    expect(types).toEqual(
      expect.arrayContaining([
        'smtp.connection-start',
        'smtp.mail-from',
        'smtp.rcpt-to',
        'smtp.mailbox-does-not-exist',
        'queue.message-queued',
        'smtp.connection-end',
      ]),
    );
    expect(types.indexOf('smtp.mailbox-does-not-exist')).toBeLessThan(types.indexOf('queue.message-queued'));
    const attempt = timeline.locator('section.span').nth(1);
    const delivered = attempt.locator('.event[data-type="delivery.delivered"]');
    expect(await delivered.locator('.values').textContent()).toContain('details=250 2.0.0 Delivered');
    expect(await attempt.locator('.event[data-type="delivery.completed"]').count()).toBe(1);
    expect(await timeline.locator('.recipients').textContent()).toContain('refused');
    // The link to copy opens the same timeline in a new page.
    const link = await timeline.locator('input.link').inputValue();
    expect(link).toBe(`${mx.adminUrl}/dashboard#message=${queueId}`);
    await page.screenshot({ path: new URL('message-search.png', SHOTS).pathname, fullPage: false });

    const again = await open(`message=${queueId}&`);
    await again.page.locator('#timeline h3', { hasText: `Message ${queueId}` }).waitFor();
    expect(await again.page.locator('#view-messages').isVisible()).toBe(true);
    expect(new URL(again.page.url()).hash).toBe(`#message=${queueId}`);

    // At phone width nothing overflows the page sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: new URL('message-search-phone.png', SHOTS).pathname, fullPage: true });
    for (const { violations, errors } of [log, again.log]) {
      expect(violations).toEqual([]);
      expect(errors).toEqual([]);
    }
  });

  it('shows a refused recipient with its reason, also from a session that queued nothing', async () => {
    const { page, log } = await open();
    await search(page, 'to', 'nobody@example.org');
    const row = page.locator('#results tr', { hasText: 'nobody@example.org' });
    await row.waitFor();
    expect(await row.locator('.outcome', { hasText: 'refused' }).getAttribute('title')).toBe('550 5.1.1 Mailbox does not exist');
    await row.locator('a').click();
    const refusal = page.locator('#timeline .event[data-type="smtp.mailbox-does-not-exist"]');
    await refusal.waitFor();
    expect(await refusal.locator('.reason').textContent()).toBe('Refused: 550 5.1.1 Mailbox does not exist');
    expect(await refusal.locator('.values').textContent()).toContain('to=nobody@example.org');

    await search(page, 'to', 'ghost@example.org');
    const ghost = page.locator('#results tr', { hasText: 'ghost@example.org' });
    await ghost.waitFor();
    expect(await ghost.locator('.outcome').allTextContents()).toEqual(['refused']);
    await ghost.locator('a').click();
    await page.locator('#timeline h3', { hasText: 'Session ' }).waitFor();
    expect(new URL(page.url()).hash).toMatch(/^#session=\d+$/);
    const reason = page.locator('#timeline .event[data-type="smtp.mailbox-does-not-exist"] .reason');
    await reason.waitFor();
    expect(await reason.textContent()).toBe('Refused: 550 5.1.1 Mailbox does not exist');
    expect(await page.locator('#timeline .event[data-type="smtp.mail-from"]').count()).toBe(1);
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('shows a <script> EHLO name as text in the timeline: nothing executes', async () => {
    const { page, log } = await open();
    await search(page, 'to', 'alice+xss@example.org');
    await page.locator('#results tr a').first().click();
    const ehlo = page.locator('#timeline .event[data-type="smtp.ehlo"]').first();
    await ehlo.waitFor();
    expect(await ehlo.locator('.values').textContent()).toContain(`domain=${XSS}`);
    expect(await page.locator('#timeline section.span h4').first().textContent()).toContain(`EHLO ${XSS}`);
    expect(await page.locator('#timeline script, #results script').count()).toBe(0);
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('pages through the results, each message listed once, and follows the system colour scheme', async () => {
    const { page, log } = await open();
    await search(page, 'to', 'carol+paged@example.org');
    const rows = page.locator('#results tr');
    // A page of 20 stored sessions (here: delivery attempts) lists their 20 messages.
    await expect.poll(() => rows.count()).toBe(20);
    await page.locator('#results-more').press('Enter');
    await page.locator('#results-info', { hasText: `${PAGED} messages` }).waitFor();
    const keys = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(new Set(keys).size).toBe(PAGED);
    expect(await page.locator('#results-more').isHidden()).toBe(true);
    expect(await page.locator('#results .outcome').allTextContents()).toEqual(Array(PAGED).fill('delivered'));

    const background = () => page.evaluate('getComputedStyle(document.body).backgroundColor');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background()).toBe('rgb(246, 247, 249)');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).toBe('rgb(18, 21, 27)');
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);
  });

  it('searches by sender, queue id, message id and remote IP, and says when the history refuses', async () => {
    const { page, log } = await open();
    for (const [field, value] of [
      ['from', 'carol@example.org'],
      ['queueId', queueId],
      ['remoteIp', '127.0.0.1'],
    ] as const) {
      await search(page, field, value);
      await page.locator('#results tr', { hasText: queueId }).waitFor();
    }
    await search(page, 'from', 'mallory@example.org');
    expect(await page.locator('#results tr').count()).toBe(1);
    expect(await page.locator('#results tr', { hasText: queueId }).count()).toBe(0);
    const messageId = (await mx.telemetry.history.traces({ queueId })).items[0]?.messages[0]?.messageId ?? '';
    expect(messageId).not.toBe('');
    await search(page, 'messageId', messageId);
    await page.locator('#results tr', { hasText: queueId }).waitFor();
    expect(log.violations).toEqual([]);
    expect(log.errors).toEqual([]);

    // Without the bearer token the history answers 401, and the page says so.
    const { page: stranger } = await openPage(`${mx.adminUrl}/dashboard`);
    await stranger.locator('#tab-messages').click();
    await stranger.locator('#search-value').fill('bob');
    await stranger.locator('#search-value').press('Enter');
    await stranger.locator('#results-info', { hasText: 'refused this page' }).waitFor();
  });
});
