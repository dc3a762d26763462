/**
 * `mail-telemetry/haraka`: a ready Haraka plugin. In Haraka's directory, `npm install mail-telemetry`,
 * then the plugin file `plugins/telemetry.js` is one line:
 *
 * ```js
 * require('mail-telemetry/haraka').plugin(exports);
 * ```
 *
 * and `config/plugins` lists it: `telemetry`. It reads `config/telemetry.ini` (tracers, levels,
 * the admin listener, webhooks, history). In a cluster (`nodes` in smtp.ini) the master gathers
 * the workers' metrics, and every worker's `/metrics` answers the scrape of all of them.
 * @packageDocumentation
 * @module mail-telemetry/haraka
 */

export { ADMIN_ROUTES } from './adapters/haraka/admin.js';
export { type HarakaEventSpecs, type HarakaTelemetry, harakaEvents } from './adapters/haraka/events.js';
export { harakaLevels } from './adapters/haraka/levels.js';
export { type HarakaPluginOptions, harakaTelemetry, plugin } from './adapters/haraka/plugin.js';
