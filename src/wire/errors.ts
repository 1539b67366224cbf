// Typed parse errors for src/wire. Parsers never throw on bad input (DESIGN "src/wire":
// "Malformed input only ever yields a typed parse error"); they return a ParseResult.

export type ParseErrorKind = 'truncated' | 'bad-version' | 'bad-ihl' | 'bad-length' | 'bad-checksum'
  | 'bad-data-offset' | 'bad-option' | 'fragment' | 'unsupported';

export interface ParseError {
  readonly kind: ParseErrorKind;
  readonly reason: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ParseError };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(kind: ParseErrorKind, reason: string): ParseResult<T> {
  return { ok: false, error: { kind, reason } };
}
