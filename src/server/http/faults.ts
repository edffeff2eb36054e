import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * Fault injection for `orgctl platform serve --faults SPEC` (or $ORGCTL_PLATFORM_FAULTS), off by default:
 * what real platform APIs do to clients — 5xx, 429 with Retry-After, slow answers, dropped connections — and a
 * requests-per-minute limit per token that behaves like a real one. Seeded, so a failing run can be replayed.
 *
 * The limit is a token bucket, as API gateways enforce one: `rpm` tokens a minute, refilled continuously,
 * holding at most `burst` (default: one second's worth). A client that spreads its requests evenly at the
 * rate never sees a 429; one that bursts past it does, with Retry-After saying when the next token comes.
 *
 * SPEC is `;`-separated: `seed=N`, `rpm=N`, `burst=N`, and rules `[METHOD] PATH-GLOB: 5xx=P, 429=P, drop=P, drop-after=P, latency=MIN-MAXms`
 * (`drop` loses the connection before or after the work, half and half; `drop-after` always after it)
 * (P a probability; `*` in a glob matches within a path segment, `**` across). Example:
 *   `seed=7; rpm=600; POST /api/v1/orgs/*\/invites/batch: 5xx=0.2, drop=0.05; *: 429=0.1`
 */
export interface FaultRule {
  method?: string;
  path: RegExp;
  p5xx: number;
  p429: number;
  pDrop: number;
  /** Drops that always come after the work is done (the write happened, its answer is lost). */
  pDropAfter: number;
  latency: [number, number];
}

export interface FaultSpec {
  seed: number;
  rpm?: number;
  burst?: number;
  rules: FaultRule[];
}

function globToRegExp(glob: string): RegExp {
  if (glob === '*' || glob === '**') return /^.*$/;
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*');
  return new RegExp(`^${re}$`);
}

function probability(value: string, what: string): number {
  const p = Number(value);
  if (!(p >= 0 && p <= 1)) throw new Error(`faults: ${what} must be a probability from 0 to 1, not "${value}"`);
  return p;
}

export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = { seed: 1, rules: [] };
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const setting = /^(seed|rpm|burst)\s*=\s*(\d+)$/.exec(part);
    if (setting) {
      const n = Number(setting[2]);
      if (setting[1] === 'seed') spec.seed = n;
      else if (n <= 0) throw new Error(`faults: ${setting[1]} must be a positive number`);
      else if (setting[1] === 'rpm') spec.rpm = n;
      else spec.burst = n;
      continue;
    }
    const colon = part.lastIndexOf(':');
    if (colon === -1) throw new Error(`faults: "${part}" is neither seed=N, rpm=N, burst=N nor "[METHOD] PATH: 5xx=P, ..."`);
    const target = part.slice(0, colon).trim().split(/\s+/);
    const [method, path] = target.length === 2 ? [target[0]!.toUpperCase(), target[1]!] : [undefined, target[0]!];
    const rule: FaultRule = { method, path: globToRegExp(path), p5xx: 0, p429: 0, pDrop: 0, pDropAfter: 0, latency: [0, 0] };
    for (const kv of part.slice(colon + 1).split(',').map((s) => s.trim()).filter(Boolean)) {
      const [key, value = ''] = kv.split('=').map((s) => s.trim()) as [string, string?];
      if (key === '5xx') rule.p5xx = probability(value, '5xx');
      else if (key === '429') rule.p429 = probability(value, '429');
      else if (key === 'drop') rule.pDrop = probability(value, 'drop');
      else if (key === 'drop-after') rule.pDropAfter = probability(value, 'drop-after');
      else if (key === 'latency') {
        const m = /^(\d+)(?:-(\d+))?ms$/.exec(value);
        if (!m) throw new Error(`faults: latency must look like 20ms or 10-50ms, not "${value}"`);
        rule.latency = [Number(m[1]), Number(m[2] ?? m[1])];
      } else throw new Error(`faults: unknown fault "${key}" (use 5xx, 429, drop, drop-after, latency)`);
    }
    spec.rules.push(rule);
  }
  return spec;
}

/** mulberry32: a tiny seeded generator, so the same SPEC gives the same faults in the same order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerFaults(app: FastifyInstance, spec: FaultSpec, now: () => number = Date.now): void {
  const random = seededRandom(spec.seed);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = (spec.rpm ?? 0) / 60_000;
  const burst = spec.burst ?? Math.max(1, Math.ceil((spec.rpm ?? 0) / 60));
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    if (path === '/healthz') return;
    if (spec.rpm) {
      // One bucket per caller (token, else address).
      const who = req.headers.authorization ?? req.ip;
      const t = now();
      const b = buckets.get(who) ?? { tokens: burst, at: t };
      b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
      b.at = t;
      buckets.set(who, b);
      if (b.tokens < 1) {
        const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
        reply.header('retry-after', String(retryAfter));
        throw new ApiError(429, 'rate_limited', `more than ${spec.rpm} requests a minute; retry after ${retryAfter} s`);
      }
      b.tokens -= 1;
    }
    const rule = spec.rules.find((r) => (!r.method || r.method === req.method) && r.path.test(path));
    if (!rule) return;
    if (rule.latency[1] > 0) await sleep(rule.latency[0] + Math.floor(random() * (rule.latency[1] - rule.latency[0] + 1)));
    const roll = random();
    if (roll < rule.pDropAfter) {
      (req as FastifyRequest & { dropAfter?: boolean }).dropAfter = true;
      return;
    }
    if (roll < rule.pDropAfter + rule.pDrop) {
      // Half the drops happen before the work, half after it (the answer is lost, the write is not).
      if (random() < 0.5) {
        req.raw.socket.destroy();
        return reply.hijack();
      }
      (req as FastifyRequest & { dropAfter?: boolean }).dropAfter = true;
      return;
    }
    if (roll < rule.pDropAfter + rule.pDrop + rule.p429) {
      reply.header('retry-after', '1');
      throw new ApiError(429, 'rate_limited', 'injected 429');
    }
    if (roll < rule.pDropAfter + rule.pDrop + rule.p429 + rule.p5xx) throw new ApiError(503, 'unavailable', 'injected 503');
  });
  app.addHook('onSend', async (req, _reply, payload) => {
    if ((req as FastifyRequest & { dropAfter?: boolean }).dropAfter) req.raw.socket.destroy();
    return payload;
  });
}
