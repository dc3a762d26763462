import { read } from '../read.js';
import type { HarakaTelemetry } from './events.js';
import { addressOf, type Emitter, text } from './session.js';

// Haraka's own outbound queue (relayed mail no queue_outbound plugin took) splits a message into
// one delivery per destination domain, `<message uuid>.<n>`, each with its own attempts. The
// message counts in `queue.count` until every recipient has a final outcome.

/** Bound on the messages tracked at once; past it the oldest is forgotten (and counted as left). */
const MAX_TRACKED = 100_000;

/** Recipients still without a final outcome, by message uuid. */
const pending = new Map<string, number>();

/** A relayed message entered Haraka's outbound queue with `recipients` recipients. */
export function trackOutbound(telemetry: HarakaTelemetry, uuid: string, recipients: number): void {
  if (recipients <= 0) return;
  if (pending.size >= MAX_TRACKED) {
    const oldest = pending.keys().next().value;
    if (oldest !== undefined) {
      pending.delete(oldest);
      telemetry.metrics.gauge('queue.count').dec();
    }
  }
  pending.set(uuid, recipients);
}

/** `delivered`: `[host, ip, response, delay, port, mode, ok_recips, secured, authenticated]`. */
export function reportDelivered(telemetry: HarakaTelemetry, hmail: unknown, params: unknown): void {
  if (!Array.isArray(params)) return;
  const [host, ip, response, delay, , , okRecips] = params as unknown[];
  const to = addresses(okRecips);
  const queueId = todoId(hmail);
  (telemetry as unknown as Emitter).emit('delivery.delivered', {
    ...(queueId === undefined ? {} : { queueId }),
    to,
    ...(typeof host === 'string' ? { hostname: host } : {}),
    ...(typeof ip === 'string' ? { remoteIp: ip } : {}),
    ...(typeof response === 'string' ? { details: response } : {}),
    ...(typeof delay === 'number' && Number.isFinite(delay) ? { elapsed: Math.round(delay * 1000) } : {}),
  });
  settle(telemetry, queueId, to.length);
}

/** `bounce`: the error the delivery failed with, for every recipient of the delivery. */
export function reportBounce(telemetry: HarakaTelemetry, hmail: unknown, error: unknown): void {
  const queueId = todoId(hmail);
  const to = addresses(read(read(hmail, 'todo'), 'rcpt_to'));
  const reason = messageOf(error);
  (telemetry as unknown as Emitter).emit('delivery.failed', {
    ...(queueId === undefined ? {} : { queueId }),
    to,
    ...(reason === undefined ? {} : { reason }),
  });
  settle(telemetry, queueId, to.length);
}

/** `deferred`: `{ delay, err }`, the delivery is tried again in `delay` seconds. */
export function reportDeferred(telemetry: HarakaTelemetry, hmail: unknown, params: unknown): void {
  const queueId = todoId(hmail);
  const delay = read(params, 'delay');
  const reason = messageOf(read(params, 'err'));
  (telemetry as unknown as Emitter).emit('queue.rescheduled', {
    ...(queueId === undefined ? {} : { queueId }),
    ...(reason === undefined ? {} : { reason }),
    ...(typeof delay === 'number' && Number.isFinite(delay) ? { nextRetry: Date.now() + delay * 1000 } : {}),
  });
}

function settle(telemetry: HarakaTelemetry, queueId: string | undefined, finals: number): void {
  if (queueId === undefined) return;
  // `<message uuid>.<n>`: the delivery's message.
  const dot = queueId.lastIndexOf('.');
  const uuid = dot > 0 ? queueId.slice(0, dot) : queueId;
  const left = pending.get(uuid);
  if (left === undefined) return;
  if (left - finals > 0) pending.set(uuid, left - finals);
  else {
    pending.delete(uuid);
    telemetry.metrics.gauge('queue.count').dec();
  }
}

function todoId(hmail: unknown): string | undefined {
  return text(read(hmail, 'todo'), 'uuid');
}

function addresses(list: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(list)) for (const item of list) out.push(addressOf(item));
  return out;
}

function messageOf(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  const message = read(error, 'message');
  return typeof message === 'string' ? message : undefined;
}
