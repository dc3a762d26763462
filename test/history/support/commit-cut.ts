/**
 * A TCP relay in front of a real PostgreSQL that can lose one COMMIT acknowledgement: once armed,
 * when the server's answer to a COMMIT (`CommandComplete "COMMIT"`) comes through, the relay cuts
 * both connections instead of passing it on. The transaction is committed; the client never
 * learns it, as when a network or a server process fails at that moment.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** The protocol message `CommandComplete` with tag `COMMIT`: 'C', int32 length 11, "COMMIT\0". */
const COMMIT_DONE = Buffer.from([0x43, 0, 0, 0, 11, ...Buffer.from('COMMIT\0', 'latin1')]);

export interface CommitCut {
  readonly port: number;
  /** Cuts the connection that next carries a COMMIT acknowledgement. */
  arm(): void;
  /** How many acknowledgements were lost. */
  readonly cut: number;
  close(): Promise<void>;
}

export async function commitCut(upstreamPort: number): Promise<CommitCut> {
  let armed = false;
  let cut = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(COMMIT_DONE)) {
        armed = false;
        cut++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    arm: () => {
      armed = true;
    },
    get cut() {
      return cut;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
