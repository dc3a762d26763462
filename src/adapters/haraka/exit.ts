/**
 * Makes the process's exit wait for one last flush. Haraka exits with `process.exit` on SIGINT,
 * without awaiting plugins (it calls `shutdown()` only with `graceful_shutdown=true`, and does not
 * wait for it either); a cluster worker exits the same way when its master goes; and Haraka leaves
 * SIGTERM to Node's default (instant death) unless it is PID 1.
 *
 * - The first `process.exit(code)` runs `flush` (bounded by `timeout`), then exits with `code`;
 *   a second call exits at once, as an impatient operator's second Ctrl-C should.
 * - A SIGTERM that nobody else handles runs `flush`, then is raised again with Node's default
 *   action, so the process still ends "killed by SIGTERM" (Haraka's master restarts a worker on it).
 *
 * @returns a function that restores `process.exit` and removes the SIGTERM listener.
 */
export function flushBeforeExit(flush: () => Promise<unknown>, timeout: number): () => void {
  const realExit = process.exit;
  let exiting = false;
  const bounded = (): Promise<void> =>
    new Promise<void>((resolve) => {
      // Not unref'd: an emptied event loop would end the process with another exit code.
      const timer = setTimeout(resolve, timeout);
      // A flush that throws at once still lets the process exit.
      Promise.resolve()
        .then(flush)
        .then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          () => {
            clearTimeout(timer);
            resolve();
          },
        );
    });
  const guarded = ((code?: number | string | null) => {
    if (exiting) return realExit.call(process, code);
    exiting = true;
    void bounded().then(() => realExit.call(process, code ?? process.exitCode));
    return undefined as never;
  }) as typeof process.exit;
  process.exit = guarded;

  const onTerm = (): void => {
    if (process.listenerCount('SIGTERM') > 1) {
      // Another handler (Haraka as PID 1) decides how to exit; its exit waits for the flush.
      return;
    }
    process.removeListener('SIGTERM', onTerm);
    exiting = true;
    void bounded().then(() => process.kill(process.pid, 'SIGTERM'));
  };
  process.on('SIGTERM', onTerm);

  return () => {
    if (process.exit === guarded) process.exit = realExit;
    process.removeListener('SIGTERM', onTerm);
  };
}
