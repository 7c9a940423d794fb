/**
 * Reading what a person pastes as a private_key_jwt client's keys: a JWK Set, one JWK, or a public
 * key in PEM (SPKI, "BEGIN PUBLIC KEY"). The PEM is turned into a JWK in the browser (WebCrypto),
 * given its RFC 7638 thumbprint as kid. A private key is refused here as the server refuses it:
 * it must never leave the client that signs with it.
 */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}
export interface Jwks {
  keys: PublicJwk[];
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

const b64url = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** RFC 7638 §3: SHA-256 over the required members, in lexical order, without whitespace. */
async function thumbprint(jwk: PublicJwk): Promise<string> {
  const members = jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)));
}

const IMPORTS: { params: RsaHashedImportParams | EcKeyImportParams; alg: string }[] = [
  { params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, alg: 'RS256' },
  { params: { name: 'ECDSA', namedCurve: 'P-256' }, alg: 'ES256' },
];

async function fromPem(pem: string): Promise<PublicJwk> {
  if (/PRIVATE KEY/.test(pem)) throw new Error('This is a private key. Paste the public key: the private key never leaves your application.');
  const body = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem)?.[1];
  if (!body) throw new Error('A PEM public key starts with -----BEGIN PUBLIC KEY-----.');
  const der = Uint8Array.from(atob(body.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  for (const { params, alg } of IMPORTS) {
    try {
      const key = await crypto.subtle.importKey('spki', der, params, true, ['verify']);
      const jwk = (await crypto.subtle.exportKey('jwk', key)) as PublicJwk;
      const { key_ops: _ops, ext: _ext, ...rest } = jwk;
      return { ...rest, alg, use: 'sig', kid: await thumbprint(rest) };
    } catch {
      /* not this kind of key: try the next */
    }
  }
  throw new Error('Only RSA and EC P-256 public keys are supported (RS256, PS256, ES256).');
}

/** The key set a paste describes; throws with words for a person when it is not one. */
export async function parseKeys(text: string): Promise<Jwks> {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('Paste a public key (PEM) or a JWKS.');
  let keys: PublicJwk[];
  if (trimmed.startsWith('-----')) {
    keys = [];
    for (const block of trimmed.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [trimmed]) keys.push(await fromPem(block));
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error('This is neither a PEM public key nor JSON.');
    }
    const obj = parsed as { keys?: unknown; kty?: unknown };
    keys = (Array.isArray(obj.keys) ? obj.keys : obj.kty ? [obj] : []) as PublicJwk[];
    if (!keys.length) throw new Error('A JWKS is {"keys": [...]}; a single JWK has "kty".');
  }
  for (const [i, key] of keys.entries()) {
    const secret = PRIVATE_MEMBERS.filter((m) => m in key);
    if (secret.length) throw new Error(`Key ${i + 1} is a private or symmetric key (it has ${secret.join(', ')}). Paste only the public key.`);
  }
  return { keys };
}
