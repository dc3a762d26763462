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
# ESM-only by design: require() of it works on Node >= 22.12, which the node10 and CJS-resolution
# checks do not model, so attw judges it with its esm-only profile.
npx attw "$work/$tarball" --profile esm-only

mkdir -p "$work/host"
cd "$work/host"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "$work/$tarball"
node -e "
const { createTelemetry } = require('mail-telemetry');
const { exportMetrics } = require('mail-telemetry/otel');
if (typeof exportMetrics !== 'function') throw new Error('require(): mail-telemetry/otel has no exportMetrics');
const { SqliteHistoryStore } = require('mail-telemetry/sqlite');
if (typeof SqliteHistoryStore !== 'function') throw new Error('require(): mail-telemetry/sqlite has no SqliteHistoryStore');
const { instrumentSmtpServer } = require('mail-telemetry/smtp-server');
if (typeof instrumentSmtpServer !== 'function') throw new Error('require(): mail-telemetry/smtp-server has no instrumentSmtpServer');
const { instrumentTransport } = require('mail-telemetry/nodemailer');
if (typeof instrumentTransport !== 'function') throw new Error('require(): mail-telemetry/nodemailer has no instrumentTransport');
const t = createTelemetry();
t.emit('smtp.connection-start', { remoteIp: '192.0.2.1', remotePort: 1, listenerId: 'smtp', localPort: 25 });
if (t.metrics.eventCount('smtp.connection-start') !== 1) throw new Error('require(): counter not updated');
t.shutdown().then(() => console.log('require() from CommonJS: ok'));
"
node --input-type=module -e "
import { createTelemetry } from 'mail-telemetry';
import { exportMetrics } from 'mail-telemetry/otel';
if (typeof exportMetrics !== 'function') throw new Error('import: mail-telemetry/otel has no exportMetrics');
const { SqliteHistoryStore } = await import('mail-telemetry/sqlite');
if (typeof SqliteHistoryStore !== 'function') throw new Error('import: mail-telemetry/sqlite has no SqliteHistoryStore');
const { instrumentSmtpServer } = await import('mail-telemetry/smtp-server');
if (typeof instrumentSmtpServer !== 'function') throw new Error('import: mail-telemetry/smtp-server has no instrumentSmtpServer');
const { instrumentTransport } = await import('mail-telemetry/nodemailer');
if (typeof instrumentTransport !== 'function') throw new Error('import: mail-telemetry/nodemailer has no instrumentTransport');
const t = createTelemetry();
await t.shutdown();
console.log('import from ESM: ok');
"
