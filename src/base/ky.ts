/**
 * ky, loaded by the first request that needs it: importing ky touches `fetch`, which makes Node
 * load undici, and a host that sends no webhook or alert should not pay that at start-up.
 */
type Ky = typeof import('ky');

let loading: Promise<Ky> | undefined;
let loaded: Ky | undefined;

export function loadKy(): Promise<Ky> {
  loading ??= import('ky').then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** ky once a request has loaded it; undefined before (so no error can be one of its classes yet). */
export function loadedKy(): Ky | undefined {
  return loaded;
}
