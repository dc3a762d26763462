/**
 * Quick start: one SMTP session and one delivery attempt, traced as spans, with an in-process
 * subscriber printing each event and the counters read at the end.
 *
 * Run with `npm run example:quickstart`.
 */
import { createTelemetry, defineEvents } from '../src/index.js';

// The host's own events get the same typing, levels and counters as built-in ones.
const events = defineEvents({
  'greylist.deferred': {
    id: 1000,
    description: 'Sender greylisted and asked to retry later',
    level: 'info',
    counter: true,
    keys: { remoteIp: true, from: true, retryAfter: 'duration' },
  },
});

const telemetry = createTelemetry({ service: 'example-mx', events, levels: { 'smtp.ehlo': 'info' } });

// Print every info-or-above SMTP, delivery and greylist event, batched off the emitter's stack.
telemetry.subscribe({ id: 'printer', events: ['smtp.*', 'delivery.*', 'greylist.*'], level: 'info' }, (batch) => {
  for (const event of batch) {
    const description = telemetry.describe(event.type).description;
    console.log(
      `${new Date(event.timestamp).toISOString()} ${event.level.toUpperCase()} ${description} (${event.type})`,
      event.data,
    );
  }
});

// A typed listener for failures anywhere.
telemetry.on('*-error', (event) => console.error('error event:', event.type, event.data.reason));

// An inbound SMTP session is a span: its keys are merged into every event in it.
const session = telemetry.span('smtp.connection-start', {
  remoteIp: '192.0.2.10',
  remotePort: 52144,
  listenerId: 'smtp',
  localPort: 25,
});
session.emit('smtp.ehlo', { domain: 'client.example.org' });
session.emit('smtp.mail-from', { from: 'alice@example.org' });
session.emit('greylist.deferred', { from: 'alice@example.org', retryAfter: 300_000 });
session.emit('smtp.rcpt-to', { to: 'bob@example.net' });
// Costly data goes in a function: it is only called when someone wants the event.
session.emit('smtp.raw-input', () => ({ contents: 'DATA\r\n', size: 6 }));
session.emit('queue.message-queued', { queueId: 42, size: 1843, from: 'alice@example.org', to: ['bob@example.net'] });
session.end();

// An outbound delivery attempt, with events made current through AsyncLocalStorage.
const attempt = telemetry.span('delivery.attempt-start', { queueId: 42, from: 'alice@example.org', to: ['bob@example.net'] });
await telemetry.withSpan(attempt, async () => {
  telemetry.emit('delivery.mx-lookup', { domain: 'example.net', elapsed: 3 });
  await new Promise((resolve) => setTimeout(resolve, 5));
  telemetry.emit('delivery.delivered', { hostname: 'mx.example.net', code: 250, elapsed: 41 });
});
attempt.end();

await telemetry.flush();
console.log('counters:', {
  'smtp.connection-start': telemetry.metrics.eventCount('smtp.connection-start'),
  'delivery.delivered': telemetry.metrics.eventCount('delivery.delivered'),
  'greylist.deferred': telemetry.metrics.eventCount('greylist.deferred'),
});
await telemetry.shutdown();
