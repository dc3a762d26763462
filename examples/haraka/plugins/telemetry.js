require('mail-telemetry/haraka').plugin(exports);
