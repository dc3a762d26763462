import { closest, TelemetryConfigError } from '../base/errors.js';
import { canonicalKey } from './filter.js';

/** Query parameters of the tracing stream besides per-key filters. */
const TRACING_PARAMS = ['token', 'filter', 'events', 'exclude', 'level', 'sticky'];
const METRICS_PARAMS = ['token', 'metrics', 'interval'];

/**
 * The filter a tracing URL asks for: `filter=<text>`, `events=smtp.*,auth.*`, `exclude=...`,
 * `level=info`, `sticky=false`, and any event key as a substring filter (`remoteIp=`, also
 * spelled `remote-ip=` or `remote_ip=`). An unknown parameter is an error, not a silent no-op.
 */
export function tracingQuery(params: URLSearchParams, keys: ReadonlyMap<string, string>): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const byKey: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, value] of params) {
    once(seen, name);
    switch (name) {
      case 'token':
        break;
      case 'filter':
        filter.text = value;
        break;
      case 'events':
      case 'exclude':
        filter[name] = list(value);
        break;
      case 'level':
        filter.level = value;
        break;
      case 'sticky':
        if (value !== 'true' && value !== 'false') throw new TelemetryConfigError('query.sticky', value, 'true or false');
        filter.sticky = value === 'true';
        break;
      default: {
        const key = canonicalKey(keys, name);
        if (key === undefined) {
          const near = closest(name, [...TRACING_PARAMS, ...keys.values()]);
          throw new TelemetryConfigError(
            `query.${name}`,
            name,
            'filter, events, exclude, level, sticky or an event key such as remoteIp',
            near && `did you mean "${near}"?`,
          );
        }
        if (byKey[key] !== undefined) throw new TelemetryConfigError(`query.${name}`, name, 'each key at most once');
        byKey[key] = value;
      }
    }
  }
  if (Object.keys(byKey).length > 0) filter.keys = byKey;
  return filter;
}

/** The metric options a metrics URL asks for: `metrics=a,b` and `interval=<seconds>` (Stalwart's units). */
export function metricsQuery(params: URLSearchParams, minimum: number): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [name, value] of params) {
    once(seen, name);
    if (name === 'metrics') options.metrics = list(value);
    else if (name === 'interval') {
      const seconds = Number(value);
      if (value.trim() === '' || !Number.isFinite(seconds) || seconds * 1000 < minimum || seconds > 86_400)
        throw new TelemetryConfigError('query.interval', value, `seconds, from ${minimum / 1000} to 86400`);
      options.interval = Math.round(seconds * 1000);
    } else if (!METRICS_PARAMS.includes(name)) {
      throw new TelemetryConfigError(`query.${name}`, name, 'metrics, interval or token');
    }
  }
  return options;
}

/** A parameter given twice is ambiguous (which one wins differs between parsers): refused, not guessed. */
function once(seen: Set<string>, name: string): void {
  if (seen.has(name)) throw new TelemetryConfigError(`query.${name}`, name, 'each parameter at most once');
  seen.add(name);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
