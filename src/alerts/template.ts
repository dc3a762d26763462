import { MARKERS, scalarJson } from '../base/json.js';
import { type MetricValue, scalar } from './values.js';

/** What a template can name besides metrics. */
export interface TemplateScope {
  readonly id: string;
  readonly state: string;
  readonly condition: string;
  readonly value: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'metric'; readonly name: string; readonly raw: string }
  | { readonly kind: 'field'; readonly field: 'id' | 'state' | 'condition' | 'value' }
  | { readonly kind: 'map'; readonly map: 'labels' | 'annotations'; readonly key: string };

/** A parsed template: plain substitution, no logic. */
export interface Template {
  readonly source: string;
  /** The metrics its `%{...}%` placeholders name. */
  readonly metrics: readonly string[];
  render(scope: TemplateScope, values: ReadonlyMap<string, MetricValue>): string;
}

const PLACEHOLDER = /%\{([^{}%\s]{1,200})\}%|\{\{\s*([^{}]{0,200}?)\s*\}\}/g;
const FIELDS = new Set(['id', 'state', 'condition', 'value']);
const MAP_KEY = /^(labels|annotations)\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Parses `%{smtp.connection-start}%` (a metric's current value, Stalwart's form; unknown names stay as
 * written) and `{{ value }}`, `{{ id }}`, `{{ state }}`, `{{ condition }}`, `{{ labels.name }}`,
 * `{{ annotations.name }}`. Returns the problem text for an unknown `{{ ... }}` name.
 */
export function parseTemplate(source: string, allowAnnotations: boolean): Template | string {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ kind: 'text', text: source.slice(last, match.index) });
    last = match.index + match[0].length;
    if (match[1] !== undefined) {
      parts.push({ kind: 'metric', name: match[1], raw: match[0] });
      continue;
    }
    const name = match[2] ?? '';
    if (FIELDS.has(name)) {
      parts.push({ kind: 'field', field: name as 'id' | 'state' | 'condition' | 'value' });
      continue;
    }
    const key = MAP_KEY.exec(name);
    if (key === null || (key[1] === 'annotations' && !allowAnnotations)) {
      const known = `value, id, state, condition, labels.<name>${allowAnnotations ? ', annotations.<name>' : ''}`;
      return `unknown placeholder {{ ${name} }}; known: ${known}, and %{metric.name}% for a metric`;
    }
    parts.push({ kind: 'map', map: key[1] as 'labels' | 'annotations', key: key[2] as string });
  }
  if (last < source.length) parts.push({ kind: 'text', text: source.slice(last) });
  return {
    source,
    metrics: parts.flatMap((part) => (part.kind === 'metric' ? [part.name] : [])),
    render(scope, values) {
      let out = '';
      for (const part of parts) {
        switch (part.kind) {
          case 'text':
            out += part.text;
            break;
          case 'metric': {
            const metric = values.get(part.name);
            out += metric === undefined ? part.raw : formatNumber(scalar(metric));
            break;
          }
          case 'field':
            out += part.field === 'value' ? formatNumber(scope.value) : text(scope[part.field]);
            break;
          case 'map':
            out += entry(scope[part.map], part.key);
            break;
        }
      }
      return out;
    },
  };
}

/** `3`, `12.5`, `0.3` (not `0.30000000000000004`), `NaN`; anything else that is not a number as JSON. */
export function formatNumber(value: number): string {
  if (typeof value !== 'number') return scalarJson(value);
  return Number.isFinite(value) ? String(Number(value.toPrecision(12))) : String(value);
}

/** A string as it is, anything else as JSON: a template never throws on what it is given. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : scalarJson(value);
}

/** An own entry only: `{{ labels.constructor }}` must not print `Object.prototype`'s; missing is empty. */
function entry(map: Readonly<Record<string, string>> | undefined, key: string): string {
  if (typeof map !== 'object' || map === null || !Object.hasOwn(map, key)) return '';
  try {
    return text(map[key]);
  } catch {
    return MARKERS.unreadable;
  }
}
