import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generate } from '../../scripts/bundle-dashboard.js';
import { SCRIPT, STYLE } from '../../src/dashboard/browser-bundle.js';

it('the committed browser bundle is the one the browser sources make (else: npm run dashboard)', async () => {
  const committed = readFileSync(new URL('../../src/dashboard/browser-bundle.ts', import.meta.url), 'utf8');
  expect(committed).toBe(await generate());
});

it('the bundle is one classic strict-mode script without imports, and a stylesheet', () => {
  expect(SCRIPT.startsWith('"use strict";(()=>{')).toBe(true);
  expect(SCRIPT).not.toMatch(/\bimport\b|\bexport\b/);
  expect(STYLE).toContain(':root{');
});
