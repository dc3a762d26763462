import { client, message, queueIdOf } from './client.js';

/**
 * A short burst of real mail: a good message, a pooled session with three, a failed login, an
 * unknown recipient and an oversized message. Returns one line per attempt.
 */
export async function sendBurst(port: number, maxSize: number): Promise<string[]> {
  const lines: string[] = [];
  const attempt = async (label: string, send: () => Promise<{ response?: string | undefined }>) => {
    try {
      const { response } = await send();
      lines.push(`${label}: accepted, queue id ${queueIdOf(response ?? '') ?? '?'}`);
    } catch (error) {
      lines.push(`${label}: refused, ${(error as { response?: string }).response ?? String(error)}`);
    }
  };

  const good = client({ port });
  await attempt('alice → bob', () => good.sendMail(message('alice@example.org', 'bob@example.org', 'Hello Bob')));
  good.close();

  const pooled = client({ port, pool: true });
  await Promise.all(
    ['bob', 'carol', 'postmaster'].map((box, i) =>
      attempt(`alice → ${box} (pooled)`, () =>
        pooled.sendMail(message('alice@example.org', `${box}@example.org`, `Pooled ${i + 1}`)),
      ),
    ),
  );
  pooled.close();

  const bad = client({ port, login: 'bad' });
  await attempt('wrong password', () => bad.sendMail(message('mallory@example.net', 'bob@example.org', 'Let me in')));
  bad.close();

  const anonymous = client({ port, login: 'none' });
  await attempt('unknown recipient', () =>
    anonymous.sendMail(message('carol@example.net', 'nobody@example.org', 'Anyone there?')),
  );
  await attempt('oversized', () => anonymous.sendMail(message('carol@example.net', 'bob@example.org', 'Big', maxSize * 2)));
  anonymous.close();
  return lines;
}
