import { describe, expect, it } from 'vitest';
import { bearerToken, constantTimeEqual, isAuthorized } from '../../src/auth';
import { encode } from './fakes';

describe('constantTimeEqual', () => {
  it('is true only for identical bytes', () => {
    expect(constantTimeEqual(encode('secret'), encode('secret'))).toBe(true);
    expect(constantTimeEqual(encode(''), encode(''))).toBe(true);
    expect(constantTimeEqual(encode('secret'), encode('secreT'))).toBe(false);
    expect(constantTimeEqual(encode('secret'), encode('Secret'))).toBe(false);
  });

  it('is false for length mismatches in either direction, including prefixes and suffixes', () => {
    expect(constantTimeEqual(encode('secret'), encode('secre'))).toBe(false);
    expect(constantTimeEqual(encode('secret'), encode('secrets'))).toBe(false);
    expect(constantTimeEqual(encode('secret'), encode('xsecret'))).toBe(false);
    expect(constantTimeEqual(encode('secret'), encode(''))).toBe(false);
    expect(constantTimeEqual(encode(''), encode('x'))).toBe(false);
  });
});

describe('bearerToken', () => {
  it('extracts the credentials with a case-insensitive scheme', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER abc')).toBe('abc');
    expect(bearerToken('Bearer   abc  ')).toBe('abc');
  });

  it('returns null for a missing header, another scheme or empty credentials', () => {
    expect(bearerToken(null)).toBeNull();
    expect(bearerToken('')).toBeNull();
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer ')).toBeNull();
    expect(bearerToken('Bearerabc')).toBeNull();
    expect(bearerToken('abc')).toBeNull();
  });
});

describe('isAuthorized', () => {
  const token = 's3cr3t-token';

  it('allows everything when no token is configured', () => {
    expect(isAuthorized(null, '')).toBe(true);
    expect(isAuthorized('Bearer anything', '')).toBe(true);
    expect(isAuthorized('Basic xyz', '')).toBe(true);
  });

  it('accepts the right token with any scheme casing', () => {
    expect(isAuthorized(`Bearer ${token}`, token)).toBe(true);
    expect(isAuthorized(`bearer ${token}`, token)).toBe(true);
    expect(isAuthorized(`BeArEr ${token}`, token)).toBe(true);
  });

  it.each([
    ['a missing header', null],
    ['an empty header', ''],
    ['a wrong token', 'Bearer wrong-token!'],
    ['a token prefix', `Bearer ${token.slice(0, -1)}`],
    ['a token with a suffix', `Bearer ${token}x`],
    ['a token with a prefix', `Bearer x${token}`],
    ['a differently-cased token', `Bearer ${token.toUpperCase()}`],
    ['the token under another scheme', `Basic ${token}`],
    ['the bare token', token],
    ['an empty bearer', 'Bearer '],
  ])('rejects %s', (_name, header) => {
    expect(isAuthorized(header, token)).toBe(false);
  });

  it('compares non-ASCII tokens by their UTF-8 bytes', () => {
    expect(isAuthorized('Bearer clé', 'clé')).toBe(true);
    expect(isAuthorized('Bearer cle', 'clé')).toBe(false);
  });
});
