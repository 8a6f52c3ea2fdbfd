// Encryption at rest for saved plans: a terraform plan file holds every variable and every sensitive value in
// clear. AES-256-GCM with a random 96-bit nonce per plan; the plan's identity (repo, PR, project, workspace, hash)
// is bound as additional authenticated data, so a ciphertext moved to another row fails to decrypt like a tampered
// one. The key comes from INFRA_AGENT_PLAN_KEY (32 bytes, base64 or hex) and is checked only when a plan is
// saved or read, so a deployment that never saves plans does not need it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface PlanKey {
  key: Buffer;
  /** First 16 hex chars of sha256(key): lets a read with the wrong key say so instead of "bad tag". */
  id: string;
}

export class PlanKeyError extends Error {
  override readonly name = 'PlanKeyError';
}

export class PlanDecryptError extends Error {
  override readonly name = 'PlanDecryptError';
}

const HOW =
  'set INFRA_AGENT_PLAN_KEY to 32 random bytes, base64 or hex (e.g. `openssl rand -base64 32`); saved plans hold secrets and are encrypted with it';

/** Parse a 32-byte key given as 64 hex chars or base64 (standard or url-safe). */
export function parsePlanKey(text: string | undefined): PlanKey {
  const value = text?.trim();
  if (!value) throw new PlanKeyError(`no plan encryption key: ${HOW}`);
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)
      ? Buffer.from(value, 'base64')
      : Buffer.alloc(0);
  if (key.length !== 32) {
    throw new PlanKeyError(`INFRA_AGENT_PLAN_KEY is not a 32-byte key in base64 or hex: ${HOW}`);
  }
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

export interface SealedPlan {
  nonce: Buffer;
  authTag: Buffer;
  ciphertext: Buffer;
  keyId: string;
}

export function sealPlan(key: PlanKey, plaintext: Buffer, aad: string): SealedPlan {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, authTag: cipher.getAuthTag(), ciphertext, keyId: key.id };
}

export function openPlan(key: PlanKey, sealed: SealedPlan, aad: string): Buffer {
  if (sealed.keyId !== key.id) {
    throw new PlanDecryptError(
      `saved plan was encrypted with another key (key id ${sealed.keyId}, current ${key.id}): re-plan the PR`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.nonce);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new PlanDecryptError('saved plan failed authentication (tampered or corrupted): re-plan the PR');
  }
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
