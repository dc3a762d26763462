/**
 * `startConsumers()` in a process of its own, driven over IPC, for a benchmark whose process must not
 * pay the receivers' CPU (the figure `consumersPerMessage`). It sends `{ webhookUrl }` once it
 * listens, then answers `{ attach, sse }` with `{ ready }`, `{ count }` with the counts, and stops
 * on `{ stop }`, or exits when its parent goes without a word (a failed run).
 */
import { startConsumers } from './consumers.js';

type Command = { readonly attach: number; readonly sse: boolean } | { readonly count: true } | { readonly stop: true };

const consumers = await startConsumers();
const send = (message: object): void => {
  process.send?.(message);
};
process.on('message', (command: Command) => {
  if ('attach' in command) {
    consumers.attach(command.attach, { sse: command.sse, scrape: true }).then(
      () => send({ ready: true }),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else if ('count' in command) send(consumers.counts());
  else {
    void consumers.close().then(() => process.disconnect());
  }
});
process.once('disconnect', () => process.exit(0));
send({ webhookUrl: consumers.webhookUrl });
