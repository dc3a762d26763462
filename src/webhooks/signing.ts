import { crypto } from '../base/builtins.js';
import type { WebhookSigning } from './options.js';

/** Signs request bodies; holds the key so that nothing else needs to. */
export class Signer {
  readonly #stalwart: Buffer | undefined;
  readonly #standard: Buffer | undefined;

  constructor(key: string | undefined, signing: WebhookSigning | undefined) {
    if (key === undefined || signing === undefined) return;
    if (signing !== 'standard') this.#stalwart = Buffer.from(key, 'utf8');
    if (signing !== 'stalwart') this.#standard = Buffer.from(key.slice('whsec_'.length), 'base64');
  }

  /** `X-Signature`: base64(HMAC-SHA256(key, body)), as Stalwart sends it; fixed for a body. */
  stalwart(body: Buffer): string | undefined {
    return this.#stalwart === undefined ? undefined : crypto().createHmac('sha256', this.#stalwart).update(body).digest('base64');
  }

  /** Standard Webhooks `webhook-signature` over `id.timestamp.body`. */
  standard(id: string, timestamp: number, body: Buffer): string | undefined {
    if (this.#standard === undefined) return undefined;
    const hmac = crypto().createHmac('sha256', this.#standard).update(`${id}.${timestamp}.`).update(body);
    return `v1,${hmac.digest('base64')}`;
  }
}
