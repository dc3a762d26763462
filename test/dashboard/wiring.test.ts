import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../../src/index.js';
import { make } from '../support/telemetry.js';

describe('createTelemetry wires the dashboard', () => {
  it('serves handlers.dashboard with the options given to createTelemetry', async () => {
    const telemetry = make({ dashboard: { title: 'mx1 <telemetry>', maxRows: 50 } });
    const response = await telemetry.handlers.dashboard.fetch(new Request('http://127.0.0.1/dashboard'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('<title>mx1 &#60;telemetry&#62;</title>');
    expect(html).not.toContain('<telemetry>');
    await telemetry.shutdown();
  });

  it('is off with enabled: false, and a bad option fails createTelemetry naming its path', async () => {
    const telemetry = make({ dashboard: { enabled: false } });
    expect((await telemetry.handlers.dashboard.fetch(new Request('http://127.0.0.1/'))).status).toBe(404);
    await telemetry.shutdown();
    // @ts-expect-error a number is not a title
    expect(() => make({ dashboard: { title: 5 } })).toThrow(TelemetryConfigError);
    // @ts-expect-error an unknown key
    expect(() => make({ dashboard: { colour: 'red' } })).toThrow(/options\.dashboard/);
  });
});
