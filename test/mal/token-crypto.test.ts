import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import {
  KmsKeyProvider,
  LocalKeyFileProvider,
  TokenCrypto,
  TokenCryptoError,
  TokenDecryptionError,
  type KmsLike,
} from '../../functions/shared/token-crypto';

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'token-crypto-'));
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

const TOKENS = JSON.stringify({ accessToken: 'eyJ-access-token-value-123', refreshToken: 'def50200-refresh-token-456' });

/** Flip one character of the part at `index` (base64url stays valid). */
function tamper(envelope: string, index: number): string {
  const parts = envelope.split('.');
  const part = parts[index];
  const middle = Math.floor(part.length / 2);
  parts[index] = part.slice(0, middle) + (part[middle] === 'A' ? 'B' : 'A') + part.slice(middle + 1);
  return parts.join('.');
}

describe('TokenCrypto with LocalKeyFileProvider', () => {
  it('creates a 32-byte key file with mode 0600 on first use and round-trips', async () => {
    const keyFile = join(folder, 'nested', 'token.key');
    const crypto = new TokenCrypto(new LocalKeyFileProvider(keyFile));
    const envelope = await crypto.encrypt(TOKENS, 'user-1');
    const info = statSync(keyFile);
    expect(info.size).toBe(32);
    expect(info.mode & 0o777).toBe(0o600);
    expect(await crypto.decrypt(envelope, 'user-1')).toBe(TOKENS);
    // A second provider on the same file (another process) opens it too.
    expect(await new TokenCrypto(new LocalKeyFileProvider(keyFile)).decrypt(envelope, 'user-1')).toBe(TOKENS);
    expect(await crypto.decryptJson(await crypto.encryptJson({ a: 1 }, 'u'), 'u')).toEqual({ a: 1 });
  });

  it('never shows the plaintext in the envelope, and seals the same text differently each time', async () => {
    const crypto = new TokenCrypto(new LocalKeyFileProvider(join(folder, 'plain.key')));
    const first = await crypto.encrypt(TOKENS, 'user-1');
    const second = await crypto.encrypt(TOKENS, 'user-1');
    expect(first).not.toBe(second);
    for (const envelope of [first, second]) {
      expect(envelope).not.toContain('access-token');
      expect(envelope).not.toContain('refresh-token');
      const decodedParts = envelope.split('.').map((p) => Buffer.from(p, 'base64url').toString('latin1'));
      expect(decodedParts.join('')).not.toContain('refresh-token');
    }
    expect(first.split('.')).toHaveLength(7);
    expect(first.startsWith('v1.local.')).toBe(true);
  });

  it('detects tampering in every part of the envelope', async () => {
    const crypto = new TokenCrypto(new LocalKeyFileProvider(join(folder, 'tamper.key')));
    const envelope = await crypto.encrypt(TOKENS, 'user-1');
    for (const index of [2, 3, 4, 5, 6]) {
      await expect(crypto.decrypt(tamper(envelope, index), 'user-1'), `part ${index}`).rejects.toBeInstanceOf(TokenDecryptionError);
    }
    await expect(crypto.decrypt('v2.local.x', 'user-1')).rejects.toBeInstanceOf(TokenDecryptionError);
  });

  it('refuses the wrong AAD (a token copied to another user)', async () => {
    const crypto = new TokenCrypto(new LocalKeyFileProvider(join(folder, 'aad.key')));
    const envelope = await crypto.encrypt(TOKENS, 'user-1');
    await expect(crypto.decrypt(envelope, 'user-2')).rejects.toBeInstanceOf(TokenDecryptionError);
    await expect(crypto.encrypt(TOKENS, '')).rejects.toBeInstanceOf(TokenCryptoError);
  });

  it('refuses an envelope from another key file, and a key file others can read', async () => {
    const envelope = await new TokenCrypto(new LocalKeyFileProvider(join(folder, 'one.key'))).encrypt(TOKENS, 'u');
    await expect(new TokenCrypto(new LocalKeyFileProvider(join(folder, 'two.key'))).decrypt(envelope, 'u')).rejects.toBeInstanceOf(TokenDecryptionError);
    const loose = join(folder, 'loose.key');
    writeFileSync(loose, randomBytes(32));
    chmodSync(loose, 0o644);
    await expect(new TokenCrypto(new LocalKeyFileProvider(loose)).encrypt(TOKENS, 'u')).rejects.toThrow(/chmod 600/);
  });
});

/**
 * A stand-in for KMS (there is no KMS to run locally): real AES-GCM wrapping under a key only it knows,
 * checking the encryption context, and counting calls.
 */
class FakeKms implements KmsLike {
  private readonly masterKey = randomBytes(32);
  calls = { generate: 0, decrypt: 0 };
  async send(command: GenerateDataKeyCommand | DecryptCommand): Promise<unknown> {
    if (command instanceof GenerateDataKeyCommand) {
      this.calls.generate += 1;
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
      cipher.setAAD(Buffer.from(JSON.stringify(command.input.EncryptionContext)));
      const wrapped = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return { Plaintext: plaintext, CiphertextBlob: wrapped, KeyId: `arn:aws:kms:eu-west-1:111122223333:key/${command.input.KeyId}` };
    }
    this.calls.decrypt += 1;
    const blob = Buffer.from(command.input.CiphertextBlob!);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, blob.subarray(0, 12));
      decipher.setAAD(Buffer.from(JSON.stringify(command.input.EncryptionContext)));
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      return { Plaintext: Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]) };
    } catch {
      throw Object.assign(new Error('invalid ciphertext'), { name: 'InvalidCiphertextException' });
    }
  }
}

describe('TokenCrypto with KmsKeyProvider', () => {
  it('round-trips, caches the data key briefly, and refuses tampering and the wrong AAD', async () => {
    let now = 1_000_000;
    const kms = new FakeKms();
    const crypto = new TokenCrypto(new KmsKeyProvider({ keyId: 'key-1', client: kms, cacheTtlMs: 60_000, now: () => now }));
    const first = await crypto.encrypt(TOKENS, 'user-1');
    const second = await crypto.encrypt(TOKENS, 'user-2');
    expect(kms.calls.generate).toBe(1); // one data key for both, within the cache window
    expect(first.startsWith('v1.kms.')).toBe(true);
    expect(first).not.toContain('refresh-token');
    expect(await crypto.decrypt(first, 'user-1')).toBe(TOKENS);
    expect(await crypto.decrypt(second, 'user-2')).toBe(TOKENS);
    expect(kms.calls.decrypt).toBe(0); // the key it generated is already known

    // A cold process (no cache) asks KMS once per data key.
    const cold = new TokenCrypto(new KmsKeyProvider({ keyId: 'key-1', client: kms, now: () => now }));
    expect(await cold.decrypt(first, 'user-1')).toBe(TOKENS);
    expect(await cold.decrypt(second, 'user-2')).toBe(TOKENS);
    expect(kms.calls.decrypt).toBe(1);

    await expect(cold.decrypt(first, 'user-2')).rejects.toBeInstanceOf(TokenDecryptionError);
    await expect(new TokenCrypto(new KmsKeyProvider({ keyId: 'key-1', client: kms })).decrypt(tamper(first, 3), 'user-1')).rejects.toBeInstanceOf(TokenDecryptionError);

    now += 61_000; // past the cache window: a new data key
    await crypto.encrypt(TOKENS, 'user-1');
    expect(kms.calls.generate).toBe(2);
  });

  it('does not open a KMS envelope with the local provider', async () => {
    const envelope = await new TokenCrypto(new KmsKeyProvider({ keyId: 'key-1', client: new FakeKms() })).encrypt(TOKENS, 'u');
    await expect(new TokenCrypto(new LocalKeyFileProvider(join(folder, 'cross.key'))).decrypt(envelope, 'u')).rejects.toBeInstanceOf(TokenDecryptionError);
  });
});
