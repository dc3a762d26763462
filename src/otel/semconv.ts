import type { Attributes } from '@opentelemetry/api';

/**
 * How the otel tracer names the attributes of its spans, span events and log records:
 * - `'catalogue'`: the catalogue's keys as they are (`remoteIp`, `remotePort`, ...);
 * - `'semconv'`: OpenTelemetry's semantic-convention names (`client.address`, `server.port`, ...)
 *   in place of the catalogue keys they stand for, the other keys as they are;
 * - `'both'`: the catalogue's keys, and the semantic-convention names beside them.
 */
export type OtelAttributeNames = 'catalogue' | 'semconv' | 'both';

/** The allowed values of {@link OtelAttributeNames}. */
export const ATTRIBUTE_NAMES: readonly OtelAttributeNames[] = ['catalogue', 'semconv', 'both'];

/** One semantic-convention attribute and the catalogue keys it is read from, the first present wins. */
type Rule = readonly [name: string, from: readonly string[]];

const NETWORK: readonly Rule[] = [
  ['network.peer.address', ['remoteIp']],
  ['network.peer.port', ['remotePort']],
  ['network.local.address', ['localIp']],
  ['network.local.port', ['localPort']],
  ['url.full', ['url']],
];

/** A connection the mail server accepted (SERVER spans): the remote end is the client. */
const SERVER: readonly Rule[] = [
  ['client.address', ['remoteIp']],
  ['client.port', ['remotePort']],
  ['server.port', ['localPort']],
  ...NETWORK,
];

/**
 * A delivery attempt (CLIENT spans): the remote end is the server, named by the MX `hostname`
 * when the event has it, else by its address.
 */
const CLIENT: readonly Rule[] = [['server.address', ['hostname', 'remoteIp']], ['server.port', ['remotePort']], ...NETWORK];

/** Turns an event's attributes into the names the tracer was asked for. */
export type Rename = (attributes: Attributes) => Attributes;

/** The renaming of `mode` for a server or a client span; `undefined` for the catalogue's names. */
export function renaming(mode: OtelAttributeNames, client: boolean): Rename | undefined {
  if (mode === 'catalogue') return undefined;
  const rules = client ? CLIENT : SERVER;
  const sources = [...new Set(rules.flatMap(([, from]) => from))];
  const keep = mode === 'both';
  return (attributes) => {
    let out: Attributes | undefined;
    for (const [name, from] of rules) {
      for (const key of from) {
        const value = attributes[key];
        if (value === undefined) continue;
        out ??= { ...attributes };
        out[name] = value;
        break;
      }
    }
    if (out === undefined) return attributes;
    // Every catalogue key a rule reads is read by some rule whenever it is present.
    if (!keep) for (const key of sources) delete out[key];
    return out;
  };
}
