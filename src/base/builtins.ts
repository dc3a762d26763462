/*
 * Node's built-in modules that only some features use, loaded when one of them first runs rather
 * than with the main entry: importing crypto, zlib and the file system's streams with it cost about
 * 20 ms and 7 MiB of a host's start-up, for features most hosts leave off (live tokens, the file
 * tracer, the dashboard's hashes). Node keeps each module once: a later call is a lookup.
 */

export const crypto = () => process.getBuiltinModule('node:crypto');
export const fs = () => process.getBuiltinModule('node:fs');
export const fsPromises = () => process.getBuiltinModule('node:fs/promises');
export const nodeModule = () => process.getBuiltinModule('node:module');
export const path = () => process.getBuiltinModule('node:path');
export const streamPromises = () => process.getBuiltinModule('node:stream/promises');
export const zlib = () => process.getBuiltinModule('node:zlib');
