/**
 * Envelope encryption of MAL tokens at rest: each value is sealed with AES-256-GCM under a data key, and the
 * data key travels with it encrypted by a master key — KMS in AWS, a local key file on a developer's machine.
 * The additional authenticated data binds a value to its owner (the user id) and to its own header, so a
 * sealed token copied to another user, or with a swapped key, does not open.
 *
 * Envelope string: `v1.<provider>.<keyId>.<encryptedDataKey>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { authorizeAccess } from './aws-access';
import { environment } from './config';

export class TokenCryptoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenCryptoError';
  }
}

/** The envelope was altered, belongs to someone else (AAD), or was sealed under another master key. */
export class TokenDecryptionError extends TokenCryptoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenDecryptionError';
  }
}

export interface DataKey {
  /** Identifies the master key (KMS key ARN, or `local:<fingerprint>`). */
  keyId: string;
  plaintext: Buffer;
  encrypted: Buffer;
}

export interface DataKeyProvider {
  /** Short name written into envelopes (`local`, `kms`). */
  readonly name: string;
  /** A data key for sealing; providers may hand out the same key for a short while. */
  generateDataKey(): Promise<DataKey>;
  decryptDataKey(encrypted: Buffer, keyId: string): Promise<Buffer>;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

function sealWithKey(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

function openWithKey(key: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

const b64 = (buffer: Buffer | string) => Buffer.from(buffer).toString('base64url');
const unb64 = (text: string) => Buffer.from(text, 'base64url');

/**
 * Master key in a local file (32 random bytes, created with mode 0600 on first use). For the local stack
 * and tests only; refuses a key file others can read.
 */
export class LocalKeyFileProvider implements DataKeyProvider {
  readonly name = 'local';
  private readonly path: string;
  private masterKey?: Promise<{ key: Buffer; keyId: string }>;

  constructor(path: string = '.local/token.key') {
    this.path = resolve(path);
  }

  private loadMasterKey(): Promise<{ key: Buffer; keyId: string }> {
    this.masterKey ??= (async () => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      try {
        // 'wx': create only if absent, so two processes starting together keep the same key.
        const handle = await open(this.path, 'wx', 0o600);
        try {
          await handle.writeFile(randomBytes(KEY_BYTES));
        } finally {
          await handle.close();
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new TokenCryptoError(`cannot create the token key file ${this.path}`, { cause: error });
        }
      }
      const info = await stat(this.path);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        throw new TokenCryptoError(`token key file ${this.path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
      }
      const key = await readFile(this.path);
      if (key.length !== KEY_BYTES) throw new TokenCryptoError(`token key file ${this.path} must hold exactly ${KEY_BYTES} bytes`);
      const fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 16);
      return { key, keyId: `local:${fingerprint}` };
    })();
    this.masterKey.catch(() => {
      this.masterKey = undefined;
    });
    return this.masterKey;
  }

  async generateDataKey(): Promise<DataKey> {
    // The key file stands in for KMS: the same grant applies (checked by the local runtime only).
    authorizeAccess('kms:GenerateDataKey', { kind: 'token-key' });
    const { key, keyId } = await this.loadMasterKey();
    const plaintext = randomBytes(KEY_BYTES);
    const { iv, tag, ciphertext } = sealWithKey(key, plaintext, Buffer.from(keyId));
    return { keyId, plaintext, encrypted: Buffer.concat([iv, tag, ciphertext]) };
  }

  async decryptDataKey(encrypted: Buffer, keyId: string): Promise<Buffer> {
    authorizeAccess('kms:Decrypt', { kind: 'token-key' });
    const master = await this.loadMasterKey();
    if (keyId !== master.keyId) {
      throw new TokenDecryptionError(`sealed under master key ${keyId}, but ${this.path} holds ${master.keyId}`);
    }
    try {
      return openWithKey(
        master.key,
        encrypted.subarray(0, IV_BYTES),
        encrypted.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
        encrypted.subarray(IV_BYTES + TAG_BYTES),
        Buffer.from(keyId),
      );
    } catch (error) {
      throw new TokenDecryptionError('the encrypted data key does not open with the local master key', { cause: error });
    }
  }
}

/** The part of KMSClient used here (so tests and callers can pass a configured client). */
export interface KmsLike {
  send(command: GenerateDataKeyCommand | DecryptCommand): Promise<unknown>;
}

export interface KmsKeyProviderOptions {
  /** KMS key id, ARN or alias. */
  keyId: string;
  client?: KmsLike;
  /** How long a plaintext data key stays in memory (for sealing, and per encrypted key for opening). */
  cacheTtlMs?: number;
  /** Bound on cached decrypted data keys. */
  maxCachedKeys?: number;
  /** KMS encryption context: it must match on Decrypt, and shows in CloudTrail. */
  encryptionContext?: Record<string, string>;
  now?: () => number;
}

/** Data keys from KMS GenerateDataKey/Decrypt, plaintext kept briefly in memory to spare KMS calls. */
export class KmsKeyProvider implements DataKeyProvider {
  readonly name = 'kms';
  private readonly keyId: string;
  private readonly client: KmsLike;
  private readonly cacheTtlMs: number;
  private readonly maxCachedKeys: number;
  private readonly encryptionContext: Record<string, string>;
  private readonly now: () => number;
  private sealingKey?: { key: Promise<DataKey>; expiresAt: number };
  private readonly openedKeys = new Map<string, { plaintext: Buffer; expiresAt: number }>();

  constructor(options: KmsKeyProviderOptions) {
    this.keyId = options.keyId;
    this.client = options.client ?? new KMSClient({});
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.maxCachedKeys = options.maxCachedKeys ?? 100;
    this.encryptionContext = options.encryptionContext ?? { purpose: 'animelog-mal-tokens' };
    this.now = options.now ?? Date.now;
  }

  generateDataKey(): Promise<DataKey> {
    const now = this.now();
    if (!this.sealingKey || this.sealingKey.expiresAt <= now) {
      const key = (async (): Promise<DataKey> => {
        let result: { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array; KeyId?: string };
        try {
          result = (await this.client.send(
            new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: this.encryptionContext }),
          )) as typeof result;
        } catch (error) {
          throw new TokenCryptoError(`KMS GenerateDataKey failed for ${this.keyId}`, { cause: error });
        }
        if (!result.Plaintext || !result.CiphertextBlob) throw new TokenCryptoError(`KMS GenerateDataKey for ${this.keyId} returned no key`);
        const dataKey = { keyId: result.KeyId ?? this.keyId, plaintext: Buffer.from(result.Plaintext), encrypted: Buffer.from(result.CiphertextBlob) };
        this.remember(dataKey.encrypted, dataKey.plaintext);
        return dataKey;
      })();
      this.sealingKey = { key, expiresAt: now + this.cacheTtlMs };
      key.catch(() => {
        this.sealingKey = undefined;
      });
    }
    return this.sealingKey.key;
  }

  async decryptDataKey(encrypted: Buffer, keyId: string): Promise<Buffer> {
    const cacheKey = encrypted.toString('base64url');
    const cached = this.openedKeys.get(cacheKey);
    if (cached && cached.expiresAt > this.now()) return cached.plaintext;
    let result: { Plaintext?: Uint8Array };
    try {
      result = (await this.client.send(
        new DecryptCommand({ CiphertextBlob: encrypted, KeyId: keyId, EncryptionContext: this.encryptionContext }),
      )) as typeof result;
    } catch (error) {
      const name = (error as { name?: string })?.name;
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
        throw new TokenDecryptionError(`KMS refused the encrypted data key (${name})`, { cause: error });
      }
      throw new TokenCryptoError(`KMS Decrypt failed for ${keyId}`, { cause: error });
    }
    if (!result.Plaintext) throw new TokenCryptoError(`KMS Decrypt for ${keyId} returned no key`);
    const plaintext = Buffer.from(result.Plaintext);
    this.remember(encrypted, plaintext);
    return plaintext;
  }

  private remember(encrypted: Buffer, plaintext: Buffer): void {
    const now = this.now();
    for (const [key, entry] of this.openedKeys) if (entry.expiresAt <= now) this.openedKeys.delete(key);
    while (this.openedKeys.size >= this.maxCachedKeys) {
      const oldest = this.openedKeys.keys().next().value;
      if (oldest === undefined) break;
      this.openedKeys.delete(oldest);
    }
    this.openedKeys.set(encrypted.toString('base64url'), { plaintext, expiresAt: now + this.cacheTtlMs });
  }
}

export class TokenCrypto {
  constructor(private readonly provider: DataKeyProvider) {}

  private static aad(header: string, aad: string): Buffer {
    return Buffer.from(`${header}|${aad}`, 'utf8');
  }

  /** Seals `plaintext` for `aad` (the user id). */
  async encrypt(plaintext: string, aad: string): Promise<string> {
    if (!aad) throw new TokenCryptoError('encrypt needs the AAD (user id)');
    const dataKey = await this.provider.generateDataKey();
    const header = [VERSION, this.provider.name, b64(dataKey.keyId), b64(dataKey.encrypted)].join('.');
    const { iv, tag, ciphertext } = sealWithKey(dataKey.plaintext, Buffer.from(plaintext, 'utf8'), TokenCrypto.aad(header, aad));
    return [header, b64(iv), b64(tag), b64(ciphertext)].join('.');
  }

  /** Opens an envelope sealed for `aad`; TokenDecryptionError when altered or sealed for someone else. */
  async decrypt(envelope: string, aad: string): Promise<string> {
    const parts = envelope.split('.');
    if (parts.length !== 7 || parts[0] !== VERSION) throw new TokenDecryptionError('not a v1 token envelope');
    const [version, providerName, keyIdPart, encryptedKeyPart, ivPart, tagPart, ciphertextPart] = parts;
    if (providerName !== this.provider.name) {
      throw new TokenDecryptionError(`sealed with the ${providerName} key provider, but this one is ${this.provider.name}`);
    }
    const iv = unb64(ivPart);
    const tag = unb64(tagPart);
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new TokenDecryptionError('malformed token envelope');
    const dataKey = await this.provider.decryptDataKey(unb64(encryptedKeyPart), unb64(keyIdPart).toString('utf8'));
    const header = [version, providerName, keyIdPart, encryptedKeyPart].join('.');
    try {
      return openWithKey(dataKey, iv, tag, unb64(ciphertextPart), TokenCrypto.aad(header, aad)).toString('utf8');
    } catch (error) {
      throw new TokenDecryptionError('token envelope failed authentication (altered, or sealed for another user)', { cause: error });
    }
  }

  async encryptJson(value: unknown, aad: string): Promise<string> {
    return this.encrypt(JSON.stringify(value), aad);
  }

  async decryptJson<T>(envelope: string, aad: string): Promise<T> {
    return JSON.parse(await this.decrypt(envelope, aad)) as T;
  }
}

/**
 * TOKEN_KMS_KEY_ID set → KMS (AWS); otherwise the local key file TOKEN_KEY_FILE (default `.local/token.key`).
 */
export function createTokenCryptoFromEnv(env: Record<string, string | undefined> = environment(), kmsClient?: KmsLike): TokenCrypto {
  if (env.TOKEN_KMS_KEY_ID) return new TokenCrypto(new KmsKeyProvider({ keyId: env.TOKEN_KMS_KEY_ID, client: kmsClient }));
  return new TokenCrypto(new LocalKeyFileProvider(env.TOKEN_KEY_FILE || '.local/token.key'));
}
