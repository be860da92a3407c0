import type { RequestSpec } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  checkUnknownArgs,
  createArgs,
  formatArgList,
  missingRequired,
  parseArgTokens,
  splitArg,
  startCommandLine,
} from '../src/request-args.js';

const spec: RequestSpec = {
  Name: 'deploy',
  Args: [
    { Pos: 0, Name: 'app', Desc: 'the app', Type: 'required', Given: false, Default: null, Value: null },
    { Pos: 1, Name: 'env', Desc: 'where', Type: 'required', Given: false, Default: null, Value: null },
    { Pos: 2, Name: 'wait', Desc: 'ms', Type: 'optional', Given: false, Default: '100', Value: null },
  ],
};

describe('request args', () => {
  it('splits on the first =', () => {
    expect(splitArg('a=b=c')).toEqual(['a', 'b=c']);
    expect(splitArg('a=')).toEqual(['a', '']);
    expect(() => splitArg('novalue')).toThrow(
      'Invalid command arg: novalue: split on = produced 1 values, expected 2 (key=val)',
    );
    expect(() => splitArg('=x')).toThrow(UsageError);
  });
  it('rejects an arg given twice', () => {
    expect(() => parseArgTokens(['a=1', 'a=2'])).toThrow(/'a' given more than once/);
    expect([...parseArgTokens(['b=2', 'a=1'])]).toEqual([
      ['b', '2'],
      ['a', '1'],
    ]);
  });
  it('names unknown args', () => {
    expect(() => checkUnknownArgs(spec, parseArgTokens(['app=x', 'colour=red', 'size=9']))).toThrow(
      "Unknown request args: colour, size. Run 'spinc help deploy' to list valid args.",
    );
    expect(() => checkUnknownArgs(spec, parseArgTokens(['app=x', 'wait=1']))).not.toThrow();
  });
  it('finds missing required args (empty values count as missing)', () => {
    expect(missingRequired(spec, parseArgTokens([]))).toEqual(['app', 'env']);
    expect(missingRequired(spec, parseArgTokens(['app=', 'env=prod']))).toEqual(['app']);
  });
  it('sends required args then given optional args; defaults are left to the server', () => {
    expect(createArgs(spec, parseArgTokens(['wait=5', 'env=prod', 'app=web']))).toEqual({
      app: 'web',
      env: 'prod',
      wait: '5',
    });
    expect(createArgs(spec, parseArgTokens(['env=prod', 'app=web']))).toEqual({ app: 'web', env: 'prod' });
  });
  it('prints the equivalent command line with quoting', () => {
    const args = createArgs(spec, parseArgTokens(['app=my app', 'env=say "hi"']));
    expect(startCommandLine('--addr http://rm:1 ', spec, args)).toBe(
      'spinc --addr http://rm:1 start deploy app="my app" env="say \\"hi\\""',
    );
  });
  it("formats a request's args for status/info", () => {
    const args = [
      {
        Pos: 0,
        Name: 'app',
        Desc: '',
        Type: 'required' as const,
        Given: true,
        Default: null,
        Value: 'web 1',
      },
      {
        Pos: 1,
        Name: 'wait',
        Desc: '',
        Type: 'optional' as const,
        Given: false,
        Default: '100',
        Value: '100',
      },
      { Pos: 2, Name: 'secret', Desc: '', Type: 'static' as const, Given: false, Default: 'x', Value: 'x' },
    ];
    expect(formatArgList(args, ['required'])).toBe('app="web 1"');
    expect(formatArgList(args, ['required', 'optional'])).toBe('app="web 1" wait=100');
    expect(formatArgList(undefined, ['required'])).toBe('');
  });
});
