// Small helpers shared by the commands' argument parsing (Node-only, like all of src/cli).

/**
 * node:util parseArgs reads `--loss -0.1` as an option "-0.1" and reports it "ambiguous".
 * A negative number after an option that takes a value is that option's value: join them
 * (`--loss=-0.1`) so the command can say plainly what is wrong with it.
 */
export function joinNegativeValues(argv: readonly string[], valueOptions: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (valueOptions.includes(a) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * A probability as people write it: a fraction in [0, 1) ("0.05") or a percentage with its
 * sign ("5%", "0.5%"). "2" is refused instead of guessed at (2 %? 200 %?), and so is "1"
 * (a link that loses everything is a partition, not a loss rate). Returns the fraction or
 * an error message.
 */
export function parseLoss(s: string): number | string {
  const pct = s.endsWith('%');
  const body = pct ? s.slice(0, -1) : s;
  const v = body.trim() === '' ? NaN : Number(body);
  if (!Number.isFinite(v)) return `--loss must be a fraction in [0, 1) like 0.05, or a percentage like 5%; got '${s}'`;
  if (v < 0) return `--loss cannot be negative; got '${s}'`;
  const p = pct ? v / 100 : v;
  if (!pct && v >= 1) return `--loss ${s} is ambiguous: write a fraction in [0, 1) (${v / 100}) or a percentage (${s}%)`;
  if (p >= 1) return `--loss must be below 100%; got '${s}'`;
  return p;
}
