/**
 * Internals of a telemetry instance, reachable only through these keys: the package does not export
 * them, so the user's object shows the public API alone (pino keeps its internals the same way).
 */

/** Emits an event in a span handle's span. */
export const EMIT_IN_SPAN: unique symbol = Symbol('mail-telemetry.emitInSpan');
/** Ends a span handle's span. */
export const END_SPAN: unique symbol = Symbol('mail-telemetry.endSpan');
/** What a mechanism gets from the core: see `MechanismContext`. */
export const MECHANISM_CONTEXT: unique symbol = Symbol('mail-telemetry.mechanismContext');
/** The instance's event catalogue. */
export const CATALOG: unique symbol = Symbol('mail-telemetry.catalog');
/** Stops timers and mechanisms at once, when the composition root fails to finish an instance. */
export const DISPOSE: unique symbol = Symbol('mail-telemetry.dispose');
/** Builds the mechanisms with the routes rebuilt once at the end, not once per subscriber they add. */
export const COMPOSE: unique symbol = Symbol('mail-telemetry.compose');
