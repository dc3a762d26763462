import type { EventRecord } from './event.js';
import type { CoreContext, MechanismSubscribeOptions, MechanismSubscription } from './mechanism.js';
import { compileSelection } from './selection.js';
import type { SinkHost } from './sinks.js';
import type { BatchHandler, Subscriber, SubscriberOptions } from './subscriber.js';

/** What the core gives its consumers: the sink host, plus subscribers and mechanisms. */
export interface ConsumerHost extends SinkHost {
  /** Keys redacted in every mechanism's batches. */
  readonly sensitive: ReadonlySet<string>;
  /** Throws when the instance is shut down. */
  assertOpen(): void;
  addSubscriber(id: string, options: SubscriberOptions, handler: BatchHandler<EventRecord>): Subscriber;
  unsubscribe(subscriber: Subscriber): void;
}

/** What webhooks, history, live streams and alerts get from the core. */
export function mechanismContext(host: ConsumerHost): CoreContext {
  return {
    service: host.service,
    catalog: host.catalog,
    now: () => host.now(),
    describe: (type) => host.describe(type),
    spans: host.spans,
    subscribe: (options, handler) => subscribe(host, options, handler),
    report: (name, data) => host.report(name, data, undefined),
    attach: (mechanism) => {
      host.dispatcher.mechanisms.push(mechanism);
    },
  };
}

function subscribe(host: ConsumerHost, o: MechanismSubscribeOptions, handler: BatchHandler<EventRecord>): MechanismSubscription {
  host.assertOpen();
  const bits = compileSelection(host.catalog, host.levels, o, o.path);
  if (o.spans === true) host.addSpanBits(bits);
  const options = {
    lossy: o.lossy,
    maxQueue: o.maxQueue,
    maxBatch: o.maxBatch,
    bits,
    errorEvent: o.errorEvent,
    onDrop: o.onDrop,
    // Every mechanism's output is a sink: the sensitive keys never reach it.
    redact: host.sensitive,
  };
  const subscriber = host.addSubscriber(o.id, options, handler);
  return {
    id: o.id,
    unsubscribe: () => host.unsubscribe(subscriber),
    stats: () => subscriber.stats(),
    report: (name, data) => host.report(name, data, subscriber),
  };
}
