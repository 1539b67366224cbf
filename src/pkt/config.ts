// Run configuration: packetdrill's command-line / script options (`--name=value`), with
// packetdrill's defaults (local 192.168.0.1:8080, remote 192.0.2.1, IPv4, 4 ms tolerance).
import { parseIpv4Address } from '../wire/ipv4addr.js';

export interface RunConfig {
  localAddr: number;
  remoteAddr: number;
  bindPort: number;
  connectPort: number;
  mtu: number;
  toleranceUs: number;
  /** Tolerance as a share of the time since the previous event (12.5 % by default). */
  tolerancePercent: number;
  /** Do not merge consecutive outbound data segments to match a longer scripted one. */
  strictSegments: boolean;
  ignoreWin: boolean;
  ignoreOptions: boolean;
  ignorePsh: boolean;
  /**
   * Outbound packets sent after the last line fail the script (synack's --fail_extra_packets).
   * Off by default, as packetdrill: it reads packets only for `>` lines and stops after the
   * last event.
   */
  failOnExtraPackets: boolean;
  /** Compare outbound TS val (packetdrill --tcp_ts_tick_usecs). */
  checkTsVal: boolean;
  seed: number;
}

export const DEFAULT_CONFIG: Readonly<RunConfig> = Object.freeze({
  localAddr: parseIpv4Address('192.168.0.1')!,
  remoteAddr: parseIpv4Address('192.0.2.1')!,
  bindPort: 8080,
  connectPort: 8080,
  mtu: 1500,
  toleranceUs: 4000,
  tolerancePercent: 12.5,
  strictSegments: false,
  ignoreWin: false,
  ignoreOptions: false,
  ignorePsh: false,
  failOnExtraPackets: false,
  checkTsVal: false,
  seed: 1,
});

/** packetdrill options that do not change anything here (accepted silently). */
const HARMLESS = new Set([
  'verbose', 'debug', 'non_fatal', 'wire_client', 'wire_server', 'wire_server_ip', 'wire_server_port',
  'wire_client_dev', 'wire_server_dev', 'gateway_ip', 'netmask_ip', 'local_linklocal_ip', 'init_scripts',
  'so_filename', 'so_flags', 'define', 'dry_run', 'send_omit_free', 'speed', 'tun_dev', 'persistent_tun_dev',
]);

function bool(v: string): boolean {
  return v === '' || v === '1' || v === 'true' || v === 'yes' || v === 'on';
}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer ${min}..${max}, got '${v}'`);
  return n;
}

function addr(name: string, v: string): number {
  const a = parseIpv4Address(v);
  if (a === null) throw new Error(`--${name}: expected an IPv4 address, got '${v}'`);
  return a;
}

/**
 * Apply one option to `c`. Returns a note for options that are accepted but ignored, or
 * null. Throws Error with a message for bad values and unsupported modes.
 */
export function applyOption(c: RunConfig, rawName: string, value: string): string | null {
  const name = rawName.replace(/-/g, '_');
  switch (name) {
    case 'ip_version':
      if (value === 'ipv4') return null;
      if (value === 'ipv4_mapped_ipv6' || value === 'ipv4-mapped-ipv6') return 'ipv4-mapped-ipv6 runs as plain IPv4 (synack has no IPv6 yet)';
      throw new Error(`--ip_version=${value} is not supported (IPv4 only)`);
    case 'local_ip': c.localAddr = addr(rawName, value); return null;
    case 'remote_ip': c.remoteAddr = addr(rawName, value); return null;
    case 'bind_port': c.bindPort = int(rawName, value, 1, 65535); return null;
    case 'connect_port': c.connectPort = int(rawName, value, 1, 65535); return null;
    case 'mtu': c.mtu = int(rawName, value, 128, 65535); return null;
    case 'tolerance_usecs': c.toleranceUs = int(rawName, value, 0, 1e9); return null;
    case 'tolerance_percent': {
      const p = Number(value);
      if (!Number.isFinite(p) || p < 0 || p > 100) throw new Error(`--${rawName}: expected a percentage, got '${value}'`);
      c.tolerancePercent = p;
      return null;
    }
    case 'strict_segments': c.strictSegments = bool(value); return null;
    case 'ignore_win': c.ignoreWin = bool(value); return null;
    case 'ignore_options': c.ignoreOptions = bool(value); return null;
    case 'ignore_psh': c.ignorePsh = bool(value); return null;
    case 'ignore_extra_packets': c.failOnExtraPackets = !bool(value); return null;
    case 'fail_extra_packets': c.failOnExtraPackets = bool(value); return null;
    case 'tcp_ts_tick_usecs': {
      const t = int(rawName, value, 0, 1e9);
      if (t !== 0 && t !== 1000) return `--tcp_ts_tick_usecs=${t}: our TS clock ticks every 1000 µs; TS val is not compared`;
      c.checkTsVal = t === 1000;
      return null;
    }
    case 'seed': c.seed = int(rawName, value, 0, 2 ** 31); return null;
    default:
      if (HARMLESS.has(name)) return null;
      return `option --${rawName} is not supported; ignored`;
  }
}
