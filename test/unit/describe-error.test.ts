import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/describe-error';

describe('describeError', () => {
  it('uses the message of an Error', () => {
    expect(describeError(new Error('connection refused'))).toBe('connection refused');
    expect(describeError(new TypeError('bad'))).toBe('bad');
  });

  it('falls back to the name of an Error without message', () => {
    expect(describeError(new RangeError())).toBe('RangeError');
  });

  it('renders component-model variant errors as "tag: val"', () => {
    expect(describeError({ tag: 'other', val: 'redis timeout' })).toBe('other: redis timeout');
  });

  it('renders a payload-less variant as its tag', () => {
    expect(describeError({ tag: 'no-such-store' })).toBe('no-such-store');
    expect(describeError({ tag: 'access-denied', val: undefined })).toBe('access-denied');
  });

  it('unwraps the payload of jco-style ComponentError wrappers', () => {
    const wrapped = Object.assign(new Error('[object Object] (see error.payload)'), {
      payload: { tag: 'other', val: 'boom' },
    });
    expect(describeError(wrapped)).toBe('other: boom');
  });

  it('unwraps the payload of the plain objects componentize-js 0.19 throws for a WIT error', () => {
    const thrown = { payload: { tag: 'other', val: 'InvalidColumnType(0, "value", Text)' } };
    expect(describeError(thrown)).toBe('other: InvalidColumnType(0, "value", Text)');
  });

  it('describes nested variant values', () => {
    expect(describeError({ tag: 'outer', val: { tag: 'inner', val: 'detail' } })).toBe('outer: inner: detail');
    expect(describeError({ tag: 'other', val: new Error('inside') })).toBe('other: inside');
  });

  it('handles strings, primitives and plain objects', () => {
    expect(describeError('plain')).toBe('plain');
    expect(describeError('')).toBe('empty error');
    expect(describeError(42)).toBe('42');
    expect(describeError(null)).toBe('null');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError({ code: 'E1' })).toBe('{"code":"E1"}');
  });

  it('does not throw on unserializable objects', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toBe('[object Object]');
  });

  it('always yields a single line', () => {
    expect(describeError(new Error('first line\n  second line\r\nthird'))).toBe('first line second line third');
    expect(describeError({ tag: 'other', val: 'a\nb\n' })).toBe('other: a b');
  });
});
