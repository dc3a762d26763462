/**
 * `pretest`: installs the Debian packages of the system programs some tests drive (see
 * test/support/programs.ts) that are neither on PATH nor installed, when it runs as root on a machine
 * with apt-get; quietly does nothing otherwise, and the tests that need a missing program are then
 * skipped (failed under CI), named on the closing lines of `npm test`. Set
 * MAIL_TELEMETRY_PROVISION=0 to turn it off.
 */
import { spawnSync } from 'node:child_process';
import { debianPackages, findProgram, isCi, PROGRAM_NAMES } from '../test/support/programs.js';

function installed(pkg: string): boolean {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const query = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return query.status === 0 && query.stdout.trim().endsWith(' installed');
}

function run(args: readonly string[]): string | undefined {
  const result = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error !== undefined) return result.error.message;
  return result.status === 0 ? undefined : `${result.stdout}${result.stderr}`.trim();
}

function provision(): number {
  if (process.env.MAIL_TELEMETRY_PROVISION === '0') return 0;
  const missing = PROGRAM_NAMES.filter((name) => findProgram(name) === undefined);
  if (missing.length === 0 || process.getuid?.() !== 0 || findProgram('apt-get') === undefined) return 0;
  // A package that is installed while its program is off PATH is not apt-get's to fix.
  const packages = debianPackages(missing).filter((pkg) => !installed(pkg));
  if (packages.length === 0) return 0;
  console.log(`provision: apt-get install ${packages.join(' ')} (for ${missing.join(', ')})`);
  const failure = run(['update', '-qq']) ?? run(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
  if (failure === undefined) return 0;
  console.error(
    `provision: apt-get failed; the tests that need ${missing.join(', ')} will ${isCi() ? 'fail' : 'be skipped'}\n${failure}`,
  );
  return isCi() ? 1 : 0;
}

process.exitCode = provision();
