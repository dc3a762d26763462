/**
 * The system programs some tests drive, where they come from, and how to find them. Shared by the
 * test helper (needs-program.ts), the `pretest` provisioning (scripts/provision.ts) and the closing
 * summary of `npm test` (scripts/test.ts). No vitest import: the scripts load it outside a test run.
 */
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program some tests need, and the Debian package that installs it. */
export interface ProgramSpec {
  readonly debian: string;
  /** Why a test needs it, for the messages. */
  readonly usedFor: string;
  /**
   * A directory whose version subdirectories hold the program in `bin/`, for a package that keeps
   * it off PATH (Debian's `postgresql`: /usr/lib/postgresql/15/bin). The highest version wins.
   */
  readonly versionedDir?: string;
}

export const PROGRAMS = {
  promtool: { debian: 'prometheus', usedFor: 'checks the Prometheus exposition' },
  'prometheus-alertmanager': { debian: 'prometheus-alertmanager', usedFor: 'receives the Alertmanager action' },
  chromium: { debian: 'chromium', usedFor: 'drives the dashboard in a headless browser' },
  'fail2ban-regex': { debian: 'fail2ban', usedFor: 'matches the fail2ban filter against real log lines' },
  postgres: {
    debian: 'postgresql',
    usedFor: 'backs the fleet history store',
    versionedDir: '/usr/lib/postgresql',
  },
} as const satisfies Record<string, ProgramSpec>;

export type ProgramName = keyof typeof PROGRAMS;

export const PROGRAM_NAMES = Object.keys(PROGRAMS) as ProgramName[];

/** The `meta` key that marks a test needing a program, read back from the JSON report. */
export const NEEDS_PROGRAM_META = 'needsProgram';
/** The `meta` key set (true) on such a test when the program was missing: skipped, or failed under CI. */
export const PROGRAM_MISSING_META = 'programMissing';

/**
 * The absolute path of `name` on `PATH` (an executable file), or, for a program of {@link PROGRAMS}
 * that its package keeps off PATH, in its `versionedDir`; undefined when it is in neither.
 */
export function findProgram(name: string, path: string = process.env.PATH ?? ''): string | undefined {
  const spec: ProgramSpec | undefined = Object.hasOwn(PROGRAMS, name) ? PROGRAMS[name as ProgramName] : undefined;
  return onPath(name, path) ?? (spec?.versionedDir === undefined ? undefined : inVersionedDir(name, spec.versionedDir));
}

function inVersionedDir(name: string, dir: string): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync(dir);
  } catch {
    return undefined;
  }
  versions.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  return onPath(name, versions.map((v) => join(dir, v, 'bin')).join(delimiter));
}

function onPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here, or not executable
    }
  }
  return undefined;
}

/** The Debian packages that install `names`, once each, in table order. */
export function debianPackages(names: Iterable<ProgramName>): string[] {
  const wanted = new Set<string>();
  for (const name of names) wanted.add(PROGRAMS[name].debian);
  return [...wanted];
}

/** The command a user runs to install `names`. */
export function installCommand(names: Iterable<ProgramName>): string {
  return `apt-get install -y --no-install-recommends ${debianPackages(names).join(' ')}`;
}

/** What a test that needs a missing `name` says. */
export function missingMessage(name: ProgramName): string {
  return `${name} is not on PATH (it ${PROGRAMS[name].usedFor}): install it with \`${installCommand([name])}\` as root, or run \`npm test\` as root to have it installed`;
}

/** True when the run is a CI run (`CI` set to anything but empty, 0 or false): nothing may be skipped. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}
