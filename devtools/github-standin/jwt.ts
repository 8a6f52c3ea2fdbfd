// Verifying a GitHub App's JSON Web Token the way GitHub does: RS256 only, signed by the App's private key, `iss` is
// the App id, issued no later than a minute from now and expiring within ten minutes. Anything else is a 401.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';

const Header = z.object({ alg: z.string(), typ: z.string().optional() });
const Claims = z.object({ iat: z.number(), exp: z.number(), iss: z.union([z.string(), z.number()]) });

export type JwtCheck = { ok: true } | { ok: false; reason: string };

/** The public half of a PEM key (private or public), for verifying. */
export function publicKeyOf(pem: string): KeyObject {
  return createPublicKey(pem);
}

export function verifyAppJwt(
  token: string,
  publicKey: KeyObject,
  appId: number,
  nowSeconds = Date.now() / 1000,
): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'A JSON web token could not be decoded' };
  const [h = '', p = '', s = ''] = parts;
  let header: z.infer<typeof Header>;
  let claims: z.infer<typeof Claims>;
  try {
    header = Header.parse(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')));
    claims = Claims.parse(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, reason: 'A JSON web token could not be decoded' };
  }
  if (header.alg !== 'RS256') return { ok: false, reason: `JWT algorithm ${header.alg} is not RS256` };
  const valid = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'));
  if (!valid)
    return { ok: false, reason: 'A JSON web token could not be decoded (signature does not match the App key)' };
  if (String(claims.iss) !== String(appId)) return { ok: false, reason: `'Issuer' claim ('iss') must be ${appId}` };
  if (claims.exp <= nowSeconds) return { ok: false, reason: "'Expiration time' claim ('exp') must be in the future" };
  if (claims.exp > nowSeconds + 600 + 60)
    return { ok: false, reason: "'Expiration time' claim ('exp') is too far in the future" };
  if (claims.iat > nowSeconds + 60) return { ok: false, reason: "'Issued at' claim ('iat') must be in the past" };
  return { ok: true };
}
