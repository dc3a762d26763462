import { defineEvents, type TelemetryFor } from '../../index.js';

/**
 * The events the Haraka plugin adds where the catalogue has none. Their ids sit in a block of
 * their own (60100 and up), away from the ids hosts usually pick from 1000.
 */
export const harakaEvents = defineEvents({
  'haraka.refused': {
    id: 60100,
    description: 'A Haraka plugin refused a command',
    counter: true,
    keys: { plugin: 'string', hook: 'string', from: true, to: true },
  },
  'haraka.unhandled': {
    id: 60101,
    description: 'No Haraka plugin took a hook that needs one, and Haraka refused by default',
    counter: true,
    keys: { hook: 'string', from: true, to: true },
  },
});

/** The declarations of {@link harakaEvents}. */
export type HarakaEventSpecs = (typeof harakaEvents)['specs'];

/** The telemetry instance the plugin makes: the catalogue's events plus {@link harakaEvents}. */
export type HarakaTelemetry = TelemetryFor<HarakaEventSpecs>;
