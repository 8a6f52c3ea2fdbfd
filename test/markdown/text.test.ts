import { describe, expect, it } from 'vitest';
import { branchForIssue, isAppBranch, slugify } from '../../src/github/branch.js';
import { readMarkers, renderMarkers } from '../../src/markdown/markers.js';

describe('branchForIssue', () => {
  it('builds an allowlisted, bounded ref from an untrusted title', () => {
    expect(branchForIssue(12, 'Add an S3 bucket for logs!')).toBe('infra/issue-12-add-an-s3-bucket-for-logs');
    expect(branchForIssue(3, '../../refs/heads/main; rm -rf / `$(x)`')).toBe('infra/issue-3-refs-heads-main-rm-rf-x');
    expect(branchForIssue(4, '🔥🔥')).toBe('infra/issue-4-change');
    const long = branchForIssue(5, 'word '.repeat(100));
    expect(isAppBranch(long)).toBe(true);
    expect(long.length).toBeLessThanOrEqual('infra/issue-5-'.length + 40);
    expect(long.endsWith('-')).toBe(false);
  });

  it('refuses a bad issue number', () => {
    expect(() => branchForIssue(0, 'x')).toThrow();
    expect(slugify('Ünïcödé Tëst')).toBe('unicode-test');
  });
});

describe('markers', () => {
  it('round-trips and the last occurrence wins (markers find the App state; they never grant anything)', () => {
    const body = `a human wrote <!-- infra-agent:run-id=forged -->\n${renderMarkers({ 'run-id': 'r-1', 'head-sha': 'abc123' })}`;
    expect(readMarkers(body)).toEqual({ 'run-id': 'r-1', 'head-sha': 'abc123' });
  });

  it('refuses values that could inject markup', () => {
    expect(() => renderMarkers({ 'run-id': 'x --> <img src=x>' })).toThrow(/not allowed/);
    expect(readMarkers('<!-- infra-agent:run-id=a"b -->')).toEqual({});
  });

  it('counts only real HTML nodes: a marker in a code span, a code block or escaped text is no marker', () => {
    expect(readMarkers('`<!-- infra-agent:issue=5 -->`')).toEqual({});
    expect(readMarkers('```\n<!-- infra-agent:issue=5 -->\n```')).toEqual({});
    expect(readMarkers('\\<!-- infra-agent:issue=5 -->')).toEqual({});
    expect(readMarkers('<!-- infra-agent:issue=5 -->')).toEqual({ issue: '5' });
  });
});
