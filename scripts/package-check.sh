#!/usr/bin/env bash
# Checks the packed tarball as users get it: publint, @arethetypeswrong/cli, and a clean install
# that is loaded with require() from CommonJS and with import from ESM.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball"
npx publint run "$work/$tarball" --strict
# attw's default (strictest) profile: node10, node16 from CommonJS and from ESM, and bundler. The
# `require` condition of each entry (scripts/commonjs-entries.ts) gives CommonJS resolution real
# CommonJS files, and typesVersions gives node10 the subpaths.
npx attw "$work/$tarball"

mkdir -p "$work/host"
cd "$work/host"
npm init -y >/dev/null
# pg is the optional peer that mail-telemetry/postgres loads: a host that uses that entry installs it.
npm install --silent --no-audit --no-fund "$work/$tarball" pg
node -e "
const { createTelemetry } = require('mail-telemetry');
const { exportMetrics } = require('mail-telemetry/otel');
if (typeof exportMetrics !== 'function') throw new Error('require(): mail-telemetry/otel has no exportMetrics');
const { SqliteHistoryStore } = require('mail-telemetry/sqlite');
if (typeof SqliteHistoryStore !== 'function') throw new Error('require(): mail-telemetry/sqlite has no SqliteHistoryStore');
const { PostgresHistoryStore } = require('mail-telemetry/postgres');
if (typeof PostgresHistoryStore !== 'function') throw new Error('require(): mail-telemetry/postgres has no PostgresHistoryStore');
const { instrumentSmtpServer } = require('mail-telemetry/smtp-server');
if (typeof instrumentSmtpServer !== 'function') throw new Error('require(): mail-telemetry/smtp-server has no instrumentSmtpServer');
const { instrumentTransport } = require('mail-telemetry/nodemailer');
if (typeof instrumentTransport !== 'function') throw new Error('require(): mail-telemetry/nodemailer has no instrumentTransport');
const { plugin } = require('mail-telemetry/haraka');
if (typeof plugin !== 'function') throw new Error('require(): mail-telemetry/haraka has no plugin');
const { createClusterMetrics, shareMetricsWithPrimary } = require('mail-telemetry/cluster');
if (typeof createClusterMetrics !== 'function' || typeof shareMetricsWithPrimary !== 'function') throw new Error('require(): mail-telemetry/cluster has no createClusterMetrics');
// Each entry's require condition is a CommonJS wrapper of the ES module: one instance for both.
if (!require.resolve('mail-telemetry').endsWith('index.cjs')) throw new Error('require(): not the CommonJS entry');
const t = createTelemetry();
t.emit('smtp.connection-start', { remoteIp: '192.0.2.1', remotePort: 1, listenerId: 'smtp', localPort: 25 });
if (t.metrics.eventCount('smtp.connection-start') !== 1) throw new Error('require(): counter not updated');
Promise.all([import('mail-telemetry'), t.shutdown()]).then(([esm]) => {
  if (esm !== require('mail-telemetry')) throw new Error('require() and import give two instances');
  console.log('require() from CommonJS: ok');
});
"
node --input-type=module -e "
import { createTelemetry } from 'mail-telemetry';
import { exportMetrics } from 'mail-telemetry/otel';
if (typeof exportMetrics !== 'function') throw new Error('import: mail-telemetry/otel has no exportMetrics');
const { SqliteHistoryStore } = await import('mail-telemetry/sqlite');
if (typeof SqliteHistoryStore !== 'function') throw new Error('import: mail-telemetry/sqlite has no SqliteHistoryStore');
const { PostgresHistoryStore } = await import('mail-telemetry/postgres');
if (typeof PostgresHistoryStore !== 'function') throw new Error('import: mail-telemetry/postgres has no PostgresHistoryStore');
const { instrumentSmtpServer } = await import('mail-telemetry/smtp-server');
if (typeof instrumentSmtpServer !== 'function') throw new Error('import: mail-telemetry/smtp-server has no instrumentSmtpServer');
const { instrumentTransport } = await import('mail-telemetry/nodemailer');
if (typeof instrumentTransport !== 'function') throw new Error('import: mail-telemetry/nodemailer has no instrumentTransport');
const { plugin } = await import('mail-telemetry/haraka');
if (typeof plugin !== 'function') throw new Error('import: mail-telemetry/haraka has no plugin');
const { createClusterMetrics } = await import('mail-telemetry/cluster');
if (typeof createClusterMetrics !== 'function') throw new Error('import: mail-telemetry/cluster has no createClusterMetrics');
const t = createTelemetry();
await t.shutdown();
console.log('import from ESM: ok');
"
