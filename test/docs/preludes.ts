/**
 * Declarations a documentation block can opt into with `<!-- prelude: name -->`, so that a short
 * snippet can use `telemetry`, `server` and the like without setting them up. They declare types
 * only: a block that is run (`<!-- run -->`) must be whole and take no prelude.
 */
export const PRELUDES: Readonly<Record<string, string>> = {
  telemetry: [
    "import type { Telemetry as DocsTelemetry } from 'mail-telemetry';",
    'declare const telemetry: DocsTelemetry;',
  ].join('\n'),
  server: [
    "import type { IncomingMessage as DocsRequest, Server as DocsServer } from 'node:http';",
    'declare const server: DocsServer;',
    "/** The host's own login check. */",
    'declare function isAdmin(req: DocsRequest): boolean;',
  ].join('\n'),
  mailserver: [
    "import type { SMTPServerOptions as DocsSmtpOptions } from 'smtp-server';",
    "/** The host's own smtp-server hooks. */",
    "declare const onAuth: NonNullable<DocsSmtpOptions['onAuth']>;",
    "declare const onRcptTo: NonNullable<DocsSmtpOptions['onRcptTo']>;",
    "declare const onData: NonNullable<DocsSmtpOptions['onData']>;",
  ].join('\n'),
  host: [
    "/** Stand-ins for the host's own code. */",
    'declare function shipSomewhere(batch: readonly unknown[]): void;',
    'declare const deadLetter: { write(events: readonly unknown[], reason: string): void };',
    'declare const resolver: { resolveMx(domain: string): Promise<unknown> };',
    'declare const domain: string;',
    'declare const token: string;',
    "/** Secrets from the host's configuration. */",
    'declare const webhookSecret: string;',
    'declare const hookToken: string;',
    'declare const liveTokenKey: string;',
  ].join('\n'),
};
