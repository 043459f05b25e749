// Bearer tokens of a test bed: random, in files of mode 0600 under the state dir, never printed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { registerSecret } from '../util/redact.ts';

export const TOKEN_KINDS = ['gateway', 'hook', 'admin', 'probe'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];
export type TokenFiles = Record<TokenKind, string>;
export type Tokens = Record<TokenKind, string>;

export function newToken(): string {
  // 32 bytes, base64url: no quotes or spaces, so it sits safely inside a HAProxy header value.
  return crypto.randomBytes(32).toString('base64url');
}

/** Create one token per kind under `<stateDir>/tokens/`, each registered with redact. */
export function createTokens(stateDir: string): { files: TokenFiles; tokens: Tokens };
export function createTokens<K extends TokenKind>(stateDir: string, kinds: readonly K[]): { files: Record<K, string>; tokens: Record<K, string> };
export function createTokens(stateDir: string, kinds: readonly TokenKind[] = TOKEN_KINDS): { files: Partial<TokenFiles>; tokens: Partial<Tokens> } {
  const dir = path.join(stateDir, 'tokens');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: Partial<TokenFiles> = {};
  const tokens: Partial<Tokens> = {};
  for (const kind of kinds) {
    const file = path.join(dir, `${kind}.token`);
    const value = newToken();
    registerSecret(value);
    fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
    files[kind] = file;
    tokens[kind] = value;
  }
  return { files, tokens };
}

/** A token's value from its file (registered with redact, so it never leaves in a message). */
export function readTokenFile(file: string): string {
  const value = fs.readFileSync(file, 'utf8').trim();
  if (value.length === 0) throw new Error(`${file}: empty token file`);
  registerSecret(value);
  return value;
}
