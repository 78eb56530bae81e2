import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_AGE_LIMIT_SECONDS,
  cacheControlFor,
  ifNoneMatchMatches,
  serverTiming,
  strongETag,
} from '../../src/http-caching';
import { encode } from './fakes';

describe('strongETag', () => {
  it('quotes the first 128 bits of the SHA-256 of the body', () => {
    const body = encode('[{"id":1,"title":"x"}]');
    expect(strongETag(body)).toBe(`"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`);
  });

  it('differs for bodies that differ in one byte and agrees for equal bodies', () => {
    expect(strongETag(encode('[1]'))).not.toBe(strongETag(encode('[2]')));
    expect(strongETag(encode('[1]'))).toBe(strongETag(Uint8Array.of(0x5b, 0x31, 0x5d)));
  });
});

describe('ifNoneMatchMatches', () => {
  const etag = '"abc"';
  it.each([
    ['the same tag', '"abc"'],
    ['the weak form of the tag', 'W/"abc"'],
    ['a list containing it', '"x", "abc", "y"'],
    ['a list without spaces', '"x","abc"'],
    ['a star', '*'],
    ['a star with whitespace', ' * '],
  ])('matches %s', (_name, header) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(true);
  });

  it.each([
    ['no header', null],
    ['an empty header', ''],
    ['another tag', '"abd"'],
    ['the tag without quotes', 'abc'],
    ['a tag that contains it', '"abcd"'],
    ['a tag with a comma that contains it', '"x,abc"'],
    ['a star inside a list', '"x", *'],
  ])('does not match %s', (_name, header) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(false);
  });
});

describe('cacheControlFor', () => {
  it.each([
    ['', 'no-cache'],
    ['0', 'no-cache'],
    [' 0 ', 'no-cache'],
    ['1', 'max-age=1'],
    ['60', 'max-age=60'],
    ['0060', 'max-age=60'],
    [String(MAX_AGE_LIMIT_SECONDS), `max-age=${MAX_AGE_LIMIT_SECONDS}`],
  ])('turns %j into %s', (setting, header) => {
    expect(cacheControlFor(setting)).toEqual({ header });
  });

  it.each(['-1', '1.5', '1e3', '60s', 'abc', String(MAX_AGE_LIMIT_SECONDS + 1), '9999999999', 'max-age=60'])(
    'falls back to no-cache and names the problem for %j',
    (setting) => {
      const { header, problem } = cacheControlFor(setting);
      expect(header).toBe('no-cache');
      expect(problem).toBe(`expected whole seconds from 0 to ${MAX_AGE_LIMIT_SECONDS}, got ${JSON.stringify(setting)}`);
    },
  );

  it('keeps the problem to one short line whatever the value', () => {
    const { problem } = cacheControlFor(`${'x'.repeat(500)}\nsecond line`);
    expect(problem).not.toContain('\n');
    expect(problem!.length).toBeLessThan(120);
  });
});

describe('serverTiming', () => {
  it.each([
    ['hit', 0.4321, 'cache;desc=hit;dur=0.432'],
    ['miss', 12, 'cache;desc=miss;dur=12'],
    ['error', 0, 'cache;desc=error;dur=0'],
    ['miss', -1, 'cache;desc=miss;dur=0'],
    ['miss', Number.NaN, 'cache;desc=miss;dur=0'],
  ] as const)('reports %s after %d ms as %s', (outcome, ms, header) => {
    expect(serverTiming(outcome, ms)).toBe(header);
  });
});
