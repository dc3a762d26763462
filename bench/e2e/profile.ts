/**
 * Reads a V8 `.cpuprofile` of the server child and attributes its samples to the library's folders,
 * the mail packages, Node internals and V8's own pseudo-frames, by the file of each sample's frame.
 */
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const LIBRARY_FOLDERS = ['core', 'tracing', 'metrics', 'history', 'webhooks', 'live', 'alerts', 'http', 'adapters', 'base'];

/** The rows of the attribution, in print order. */
export const CATEGORIES = [
  ...LIBRARY_FOLDERS.map((folder) => `dist/${folder}`),
  'other library',
  'node_modules/smtp-server',
  'node_modules/nodemailer',
  'other packages',
  'host code (bench/e2e)',
  'node internals',
  '(program)',
  '(garbage collector)',
] as const;
export type Category = (typeof CATEGORIES)[number] | '(idle)';

export function isLibrary(category: Category): boolean {
  return category.startsWith('dist/') || category === 'other library';
}

export interface Leaf {
  readonly name: string;
  readonly samples: number;
}

export interface Attribution {
  /** `round` when the samples were cut to the measured rounds, else the whole profile (see `note`). */
  readonly window: 'round' | 'whole profile';
  readonly note: string | undefined;
  /** Samples in the window, idle ones included. */
  readonly samples: number;
  readonly idle: number;
  /** Non-idle samples by the category of the sampled (leaf) frame. */
  readonly self: ReadonlyMap<Category, number>;
  /** The same, with Node-internal and native leaves charged to the nearest caller outside Node. */
  readonly charged: ReadonlyMap<Category, number>;
  /** Non-idle samples with a library frame anywhere on the stack. */
  readonly underLibrary: number;
  /** Samples of `other packages`, by package. */
  readonly packages: ReadonlyMap<string, number>;
  /** The most sampled leaves charged to the library: a library frame, or a Node one with the library frame that called it. */
  readonly topLeaves: readonly Leaf[];
}

function packageOf(url: string): string {
  const rest = url.slice(url.lastIndexOf('/node_modules/') + '/node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? 'unknown');
}

function categorize(frame: ProfileNode['callFrame'], distUrl: string, repoUrl: string): Category {
  const { functionName, url } = frame;
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)' || functionName === '(root)') return '(program)';
    return 'node internals'; // a native function: its caller is in the charged column
  }
  if (url.startsWith(distUrl)) {
    const folder = url.slice(distUrl.length).split('/')[0] ?? '';
    return LIBRARY_FOLDERS.includes(folder) ? (`dist/${folder}` as Category) : 'other library';
  }
  if (url.includes('/node_modules/')) {
    const name = packageOf(url);
    if (name === 'smtp-server') return 'node_modules/smtp-server';
    if (name === 'nodemailer') return 'node_modules/nodemailer';
    return 'other packages';
  }
  if (url.startsWith('node:') || !url.startsWith('file:')) return 'node internals';
  return url.startsWith(repoUrl) ? 'host code (bench/e2e)' : 'other packages';
}

function shortFile(url: string, repoUrl: string): string {
  if (url === '') return 'native';
  if (url.startsWith(repoUrl)) return url.slice(repoUrl.length);
  return url.replace(/^.*\/node_modules\//, '');
}

function add<K>(map: Map<K, number>, key: K, count = 1): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

/**
 * Attributes the samples taken between `fromMicros` and `toMicros` (the measured rounds, on the
 * profile's monotonic clock), or every sample when that window holds none.
 */
export function attribute(profile: CpuProfile, repoRoot: string, fromMicros: number, toMicros: number): Attribution {
  const repoUrl = `${pathToFileURL(repoRoot).href}/`;
  // The profiled child runs tsc's unbundled output, where each file still sits in its folder.
  const distUrl = `${repoUrl}build/modules/`;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const category = new Map<number, Category>();
  for (const node of profile.nodes) category.set(node.id, categorize(node.callFrame, distUrl, repoUrl));

  const times: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) {
    t += delta;
    times.push(t);
  }
  let picked = profile.samples
    .map((_, i) => i)
    .filter((i) => (times[i] as number) >= fromMicros && (times[i] as number) <= toMicros);
  let note: string | undefined;
  if (picked.length === 0) {
    note = `no sample fell between the rounds' clock readings (profile ${profile.startTime}–${profile.endTime} µs, rounds ${fromMicros}–${toMicros} µs): the whole profile is attributed, start-up and warm-up included`;
    picked = profile.samples.map((_, i) => i);
  }

  const self = new Map<Category, number>();
  const charged = new Map<Category, number>();
  const packages = new Map<string, number>();
  const leaves = new Map<string, number>();
  let idle = 0;
  let underLibrary = 0;
  for (const i of picked) {
    const id = profile.samples[i] as number;
    const own = category.get(id) ?? 'node internals';
    if (own === '(idle)') {
      idle++;
      continue;
    }
    add(self, own);
    if (own === 'other packages') add(packages, packageOf(byId.get(id)?.callFrame.url ?? ''));
    let chargedTo: Category = own;
    let caller: ProfileNode | undefined;
    let underALibraryFrame = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const c = category.get(at) ?? 'node internals';
      if (chargedTo === 'node internals' && c !== 'node internals' && c !== '(program)') {
        chargedTo = c;
        caller = byId.get(at);
      }
      if (isLibrary(c)) {
        underALibraryFrame = true;
        break;
      }
    }
    add(charged, chargedTo);
    if (underALibraryFrame) underLibrary++;
    if (isLibrary(chargedTo)) {
      const leaf = byId.get(id)?.callFrame;
      const leafName = `${leaf?.functionName || '(anonymous)'} (${shortFile(leaf?.url ?? '', repoUrl)})`;
      const callerName =
        caller === undefined
          ? ''
          : ` ← ${caller.callFrame.functionName || '(anonymous)'} (${shortFile(caller.callFrame.url, repoUrl)})`;
      add(leaves, `${leafName}${callerName}`);
    }
  }
  const topLeaves = [...leaves]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, samples]) => ({ name, samples }));
  return {
    window: note === undefined ? 'round' : 'whole profile',
    note,
    samples: picked.length,
    idle,
    self,
    charged,
    underLibrary,
    packages,
    topLeaves,
  };
}
