// Time values for the whole stack: integer microseconds in a plain JS number.
// A double holds integers exactly up to 2^53 µs (~285 years), so virtual time in simulation
// and "µs since the driver started" in realtime never lose precision. The TCP core is
// sans-I/O (DESIGN.md "Time"): it is handed an Instant and answers with its next deadline.

/** A point in time: integer microseconds (virtual, or since the realtime clock's epoch). */
export type Instant = number;
/** A length of time: integer microseconds. May be negative when it is a difference. */
export type Duration = number;

export const US = 1;
export const MS = 1000;
export const SECOND = 1_000_000;
export const MINUTE = 60_000_000;
export const HOUR = 3_600_000_000;

/** The deadline of something that never happens; compares greater than every finite Instant. */
export const NEVER: Instant = Number.POSITIVE_INFINITY;

/** Round to the nearest integer µs, halves away from zero, and never return -0. */
function roundUs(x: number): Duration {
  const r = x < 0 ? -Math.round(-x) : Math.round(x);
  return r === 0 ? 0 : r;
}

/** n milliseconds as a Duration, rounded to integer µs. */
export function ms(n: number): Duration {
  return roundUs(n * MS);
}

/** n seconds as a Duration, rounded to integer µs. */
export function seconds(n: number): Duration {
  return roundUs(n * SECOND);
}

/** n minutes as a Duration, rounded to integer µs. */
export function minutes(n: number): Duration {
  return roundUs(n * MINUTE);
}

/** n hours as a Duration, rounded to integer µs. */
export function hours(n: number): Duration {
  return roundUs(n * HOUR);
}

/**
 * A compact, readable rendering that parseDuration() reads back exactly (for safe integers):
 *   0 → "0", 250 → "250us", 40_000 → "40ms", 1_500 → "1.5ms", 1_500_000 → "1.5s",
 *   75 s → "1m15s", 2 h → "2h", 2 h 5 s → "2h0m5s", Infinity → "never".
 * The unit is the largest one that keeps the number ≥ 1; below a minute the value is shown
 * as one decimal number (JS shortest form, so at most 3 or 6 decimals for integer input).
 */
export function formatDuration(d: Duration): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Number.POSITIVE_INFINITY) return 'never';
  if (d === Number.NEGATIVE_INFINITY) return '-never';
  if (d === 0) return '0';
  if (d < 0) return '-' + formatDuration(-d);
  if (d < MS) return `${d}us`;
  if (d < SECOND) return `${d / MS}ms`;
  if (d < MINUTE) return `${d / SECOND}s`;
  const h = Math.floor(d / HOUR);
  let rest = d - h * HOUR;
  const m = Math.floor(rest / MINUTE);
  rest -= m * MINUTE;
  // Go-like "2h0m5s", but trailing zero parts are dropped: "2h", "2h5m", "1m".
  let out = h > 0 ? `${h}h` : '';
  if (m > 0 || rest > 0) out += `${m}m`;
  if (rest > 0) out += `${rest / SECOND}s`;
  return out;
}

const UNITS: Record<string, Duration> = {
  us: US, 'µs': US, 'μs': US, ms: MS, s: SECOND, m: MINUTE, h: HOUR,
};
const BARE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)$/;
// One "<number><unit>" component; "ms" must be tried before "m".
const PART = /\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|μs|ms|s|m|h)/y;

/**
 * Parse "5ms", "1.5s", "200us", "2h", "75s", "1h30m", "2h0m5s", "-3ms"; a bare number
 * ("40", "2.5") is milliseconds; "never"/"inf" is NEVER (Infinity). The result is rounded to
 * integer µs. Anything else — including results beyond 2^53 µs — is null; never throws.
 */
export function parseDuration(s: string): Duration | null {
  if (typeof s !== 'string') return null;
  const text = s.trim();
  if (text === 'never' || text === 'inf' || text === '+inf') return NEVER;
  if (text === '-never' || text === '-inf') return Number.NEGATIVE_INFINITY;

  const bare = BARE.exec(text);
  if (bare) return finish(bare[1] === '-', 0, Number(bare[2]) * MS);

  let i = 0;
  let negative = false;
  if (text[0] === '-' || text[0] === '+') {
    negative = text[0] === '-';
    i = 1;
  }
  // Integer parts are summed exactly; fractional parts (each < one unit) are summed apart
  // and rounded once, so "1.234567s" is 1_234_567 and not 1_234_567.0000000002.
  let whole = 0;
  let frac = 0;
  let parts = 0;
  while (i < text.length) {
    PART.lastIndex = i;
    const m = PART.exec(text);
    if (!m) return null;
    const unit = UNITS[m[2]!]!;
    const num = m[1]!;
    const dot = num.indexOf('.');
    const intText = dot < 0 ? num : num.slice(0, dot);
    const fracText = dot < 0 ? '' : num.slice(dot + 1);
    whole += (intText === '' ? 0 : Number(intText)) * unit;
    if (fracText !== '') frac += Number('0.' + fracText) * unit;
    i = PART.lastIndex;
    parts++;
  }
  if (parts === 0) return null;
  return finish(negative, whole, frac);
}

function finish(negative: boolean, whole: number, frac: number): Duration | null {
  const total = whole + Math.round(frac);
  if (!Number.isSafeInteger(total)) return null;
  return negative && total !== 0 ? -total : total;
}
