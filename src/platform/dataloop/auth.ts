import type { HttpClient } from '../http/client.js';
import { isBearerToken } from '../http/address.js';
import { jwtExpiry } from '../saas/jwt.js';
import { PlatformError } from '../types.js';

/** dtlpy renews a token with less than this left (api_client.token_expired). */
export const RENEW_BEFORE_MS = 60_000;

/**
 * Dataloop's `authorization: Bearer <JWT>` (a login JWT or an API key, which is also a JWT), renewed as dtlpy
 * does: before each request the token's `exp` is read without verifying it, and with under 60 s left it is
 * exchanged at `POST <gate>/token?default` with `{type: "refresh_token", refresh_token}` for the answer's
 * `id_token`. Without a refresh token an expiring token is an error (dtlpy's "600 Token expired"), raised
 * before any request is sent. Neither token is ever put in a message.
 */
export class DataloopAuth {
  private token: string;
  private renewing: Promise<void> | undefined;

  constructor(
    token: string,
    private readonly refreshToken: string | undefined,
    /** A client on the gate's origin (`https://gate.dataloop.ai`), where `/token` lives, without `/api/v1`. */
    private readonly gate: HttpClient,
    private readonly now: () => number = Date.now,
  ) {
    this.token = token;
  }

  /** The secrets this holds, for redacting messages. */
  secrets(): string[] {
    return [this.token, this.refreshToken ?? ''];
  }

  async headers(): Promise<Record<string, string>> {
    const exp = jwtExpiry(this.token);
    if (exp !== undefined && exp - this.now() < RENEW_BEFORE_MS) {
      this.renewing ??= this.renew(exp).finally(() => (this.renewing = undefined));
      await this.renewing;
    }
    return { authorization: `Bearer ${this.token}` };
  }

  private async renew(exp: number): Promise<void> {
    const when = `${exp <= this.now() ? 'expired' : 'expires'} at ${new Date(exp).toISOString()}`;
    if (!this.refreshToken) {
      throw new PlatformError(
        `the Dataloop token ${when} (Dataloop refuses tokens within 60 s of expiry, as dtlpy renews them): get a new one (dtlpy login, or a new API key) into ORGCTL_TOKEN / the token file, or set ORGCTL_REFRESH_TOKEN so orgctl renews it`,
        401,
        'token_expired',
      );
    }
    let answer: { id_token?: unknown } | undefined;
    try {
      answer = await this.gate.request<{ id_token?: unknown }>('POST', '/token?default', { type: 'refresh_token', refresh_token: this.refreshToken }, 'POST /token');
    } catch (err) {
      throw new PlatformError(`the Dataloop token ${when} and renewing it failed: ${(err as Error).message}`, 401, 'token_expired');
    }
    const fresh = answer?.id_token;
    if (typeof fresh !== 'string' || !isBearerToken(fresh)) throw new PlatformError(`the Dataloop token ${when} and the renewal answer holds no usable id_token`, 401, 'token_expired');
    const freshExp = jwtExpiry(fresh);
    if (freshExp !== undefined && freshExp - this.now() < RENEW_BEFORE_MS) throw new PlatformError(`the Dataloop token ${when} and the renewed one expires within 60 s`, 401, 'token_expired');
    this.token = fresh;
  }
}
