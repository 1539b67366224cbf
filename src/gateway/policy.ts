// Deny-by-default destination rules shared by the gateway and `synack relay` (browser-clean).
//
// A rule is `[tcp:|udp:]HOST:PORT`:
//   HOST  `*` (any address), an IPv4 address, an IPv4 prefix `A.B.C.D/N`, a host name
//         (`example.test`, matched case-insensitively) or a name suffix `*.example.test`
//   PORT  `*`, a number, or a range `LO-HI`
// Without a protocol prefix the rule allows both TCP and UDP. Nothing is allowed unless a
// rule matches. Address rules are checked against the address actually connected to (after
// name resolution), so a name that resolves to a forbidden address is still refused.
import { inPrefix, parseIpv4Address } from '../wire/ipv4addr.js';

export type FlowProto = 'tcp' | 'udp';

export type HostPattern =
  | { kind: 'any' }
  | { kind: 'prefix'; addr: number; prefixLen: number }
  | { kind: 'name'; name: string; suffix: boolean };

export interface AllowRule {
  proto: FlowProto | 'any';
  host: HostPattern;
  portLo: number;
  portHi: number;
  /** The text the rule was parsed from. */
  text: string;
}

/** A rule that does not parse (code ERR_INVALID_ALLOW_RULE). */
export class RuleError extends Error {
  readonly code = 'ERR_INVALID_ALLOW_RULE';
  constructor(message: string) { super(message); this.name = 'RuleError'; }
}

export function parseAllowRule(text: string): AllowRule {
  let s = text.trim();
  let proto: AllowRule['proto'] = 'any';
  const m = /^(tcp|udp):(.*)$/i.exec(s);
  if (m) { proto = m[1]!.toLowerCase() as FlowProto; s = m[2]!; }
  const colon = s.lastIndexOf(':');
  if (colon <= 0) throw new RuleError(`allow rule '${text}': expected HOST:PORT`);
  const h = s.slice(0, colon), p = s.slice(colon + 1);
  let portLo: number, portHi: number;
  if (p === '*') { portLo = 0; portHi = 65535; }
  else {
    const r = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!r) throw new RuleError(`allow rule '${text}': bad port '${p}'`);
    portLo = Number(r[1]); portHi = r[2] === undefined ? portLo : Number(r[2]);
    if (portLo > 65535 || portHi > 65535 || portLo > portHi) throw new RuleError(`allow rule '${text}': bad port range '${p}'`);
  }
  let host: HostPattern;
  if (h === '*') host = { kind: 'any' };
  else if (/^[\d.]+(\/\d+)?$/.test(h)) {
    const [a, n] = h.split('/');
    const addr = parseIpv4Address(a!);
    const prefixLen = n === undefined ? 32 : Number(n);
    if (addr === null || !(prefixLen >= 0 && prefixLen <= 32)) throw new RuleError(`allow rule '${text}': bad address '${h}'`);
    host = { kind: 'prefix', addr, prefixLen };
  } else if (/^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(h)) {
    const suffix = h.startsWith('*.');
    host = { kind: 'name', name: (suffix ? h.slice(1) : h).toLowerCase(), suffix };
  } else throw new RuleError(`allow rule '${text}': bad host '${h}'`);
  return { proto, host, portLo, portHi, text };
}

export interface FlowQuery {
  proto: FlowProto;
  /** The address connected to (after resolution), if known. */
  addr?: number | null;
  /** The name the flow asked for, if it asked by name. */
  name?: string | null;
  port: number;
}

export class Policy {
  readonly rules: AllowRule[];
  constructor(rules: Array<string | AllowRule> = []) {
    this.rules = rules.map((r) => (typeof r === 'string' ? parseAllowRule(r) : r));
  }

  /** The first rule allowing the flow, or null (deny). */
  match(q: FlowQuery): AllowRule | null {
    for (const r of this.rules) {
      if (r.proto !== 'any' && r.proto !== q.proto) continue;
      if (q.port < r.portLo || q.port > r.portHi) continue;
      const h = r.host;
      if (h.kind === 'any') return r;
      if (h.kind === 'prefix') {
        if (q.addr !== undefined && q.addr !== null && inPrefix(q.addr, h.addr, h.prefixLen)) return r;
        continue;
      }
      const name = q.name?.toLowerCase().replace(/\.$/, '');
      if (name === undefined) continue;
      if (h.suffix ? name.endsWith(h.name) : name === h.name) return r;
    }
    return null;
  }

  allows(q: FlowQuery): boolean { return this.match(q) !== null; }
}
