import { httpAddressProblem } from '../http/address.js';

/**
 * Addresses of the hosted platforms: `dataloop` or `ango` alone (the default region), or with an API base URL
 * for another region or environment (`dataloop+https://rc-gate.dataloop.ai/api/v1`, `ango+https://us-api.ango.ai`).
 */
export const SAAS_PLATFORMS = {
  /** dtlpy's default environment; every path is this base plus `/orgs/...` (platform-apis.md 1.1). */
  dataloop: { name: 'Dataloop', defaultBase: 'https://gate.dataloop.ai/api/v1', form: 'dataloop | dataloop+https://HOST/api/v1' },
  /** The imerit-ango SDK's DEFAULT_HOST; paths carry `/v2` (platform-apis.md 2.1). */
  ango: { name: 'Ango Hub', defaultBase: 'https://imeritapi.ango.ai', form: 'ango | ango+https://HOST' },
} as const;

export type SaasKind = keyof typeof SAAS_PLATFORMS;

export interface SaasAddress {
  kind: SaasKind;
  /** API base URL, no trailing slash (Ango's without `/v2`: the adapter's paths carry it, as the SDK's do). */
  base: string;
  /** How plans and messages name it (never a secret): `dataloop+https://gate.dataloop.ai/api/v1`. */
  description: string;
}

/** Whether an address names a hosted platform at all (`dataloop...`, `ango...`), valid or not. */
export function saasKindOf(address: string): SaasKind | undefined {
  const m = /^(dataloop|ango)(?:\+|$)/i.exec(address);
  return m ? (m[1]!.toLowerCase() as SaasKind) : undefined;
}

/**
 * Parses a hosted platform's address; a string saying what is wrong when it names one but is unusable
 * (never quoting the URL, which may carry a secret); undefined when it names none.
 */
export function parseSaasAddress(address: string): SaasAddress | string | undefined {
  const kind = saasKindOf(address);
  if (!kind) return undefined;
  const rest = address.slice(kind.length);
  let base: string = SAAS_PLATFORMS[kind].defaultBase;
  if (rest) {
    const url = rest.slice(1);
    const problem = httpAddressProblem(url);
    if (problem === 'carries credentials') return `the ${SAAS_PLATFORMS[kind].name} address carries credentials in the URL; they are not shown and not used: put the token in ORGCTL_TOKEN or a token file`;
    if (problem) return `the ${SAAS_PLATFORMS[kind].name} address after "${kind}+" is not an http(s) URL (it is not shown, in case it carries a secret)`;
    base = url.replace(/\/+$/, '');
    // The Ango docs list servers with /v2 (https://us-api.ango.ai/v2); the adapter adds it to every path.
    if (kind === 'ango') base = base.replace(/\/v2$/i, '');
  }
  return { kind, base, description: `${kind}+${base}` };
}
