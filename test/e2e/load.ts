import { client, message, queueIdOf } from '../../examples/mail-server/client.js';

/** One message as the client saw it: what it sent and what the server answered. */
export interface Sent {
  readonly kind: 'good' | 'pooled' | 'bad-auth' | 'unknown' | 'oversized';
  readonly from: string;
  readonly to: string;
  /** The session a pooled message shared. */
  readonly session?: number;
  readonly messageId?: string;
  readonly queueId?: string;
  /** The reply code of a refusal. */
  readonly code?: number;
}

const BOXES = ['bob', 'carol', 'postmaster'];

async function send(
  kind: Sent['kind'],
  transport: ReturnType<typeof client>,
  mail: ReturnType<typeof message>,
  session?: number,
): Promise<Sent> {
  const base = { kind, from: mail.from, to: mail.to, ...(session === undefined ? {} : { session }) };
  try {
    const info = await transport.sendMail(mail);
    return { ...base, messageId: info.messageId, queueId: queueIdOf(info.response ?? '') ?? '' };
  } catch (error) {
    return { ...base, code: (error as { responseCode?: number }).responseCode ?? 0 };
  }
}

/** Runs `count` jobs, `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** The mix a mail server sees, all at once; returns what each message got. */
export async function sendLoad(
  port: number,
  maxSize: number,
  mix: { good: number; pooledSessions: number; perSession: number; badAuth: number; unknown: number; oversized: number },
): Promise<Sent[]> {
  const good = pool(mix.good, 6, async (i) => {
    const transport = client({ port });
    const sent = await send(
      'good',
      transport,
      message(`sender${i}@example.net`, `${BOXES[i % 3]}+m${i}@example.org`, `Message ${i}`, 300 + i * 7),
    );
    transport.close();
    return sent;
  });
  const pooled = pool(mix.pooledSessions, 3, async (s) => {
    const transport = client({ port, pool: true });
    const messages = Array.from({ length: mix.perSession }, (_, j) =>
      send(
        'pooled',
        transport,
        message(`pooled${s}@example.net`, `${BOXES[j % 3]}+p${s}x${j}@example.org`, `Pooled ${s}.${j}`),
        s,
      ),
    );
    const sent = await Promise.all(messages);
    transport.close();
    return sent;
  });
  const refused = pool(mix.badAuth + mix.unknown + mix.oversized, 2, async (i) => {
    if (i < mix.badAuth) {
      const transport = client({ port, login: 'bad' });
      const sent = await send('bad-auth', transport, message(`mallory${i}@example.net`, 'bob@example.org', 'Let me in'));
      transport.close();
      return sent;
    }
    const transport = client({ port, login: 'none' });
    const sent =
      i < mix.badAuth + mix.unknown
        ? await send('unknown', transport, message(`stranger${i}@example.net`, `nobody${i}@example.org`, 'Anyone there?'))
        : await send('oversized', transport, message(`big${i}@example.net`, `bob+big${i}@example.org`, 'Big', maxSize * 2));
    transport.close();
    return sent;
  });
  const [a, b, c] = await Promise.all([good, pooled, refused]);
  return [...a, ...b.flat(), ...c];
}
