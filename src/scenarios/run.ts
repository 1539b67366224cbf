// Running a scenario with a setup: sysctl overrides, a list of segments to lose, and TCB
// snapshots for stepping. Browser-clean (the lab page and `synack scenario run --set/--drop`
// both use it).
//
// The core is deterministic: the same seed gives the same run, event for event. So "lose
// this one" needs no rewinding machinery: the scenario is run again from the seed with the
// segment's ordinal on a drop list, and the run is identical up to that segment, which the
// link then drops; from there on TCP reacts (retransmission, RST, timeouts). Stepping back is
// showing a prefix of the recorded events; the TCB panels come from snapshots taken while
// the run was recorded.
//
// A segment's ordinal is its position among the segments the traced stacks sent (the
// 'out' segment events, in the order the recorder got them, counting from 0). Ordinals
// chosen in a run with drops [d1 … dk] stay valid when that run is repeated, so a drop list
// is built by adding, one at a time, ordinals greater than the ones before (earlier drops
// change everything after them; addDrop() keeps the list consistent).
import type { StackOptions } from '../stack/options.js';
import { DEFAULT_STACK_OPTIONS } from '../stack/options.js';
import type { Stack } from '../stack/stack.js';
import type { TcpState } from '../tcp/types.js';
import type { RecordedEvent } from '../trace/recorder.js';
import type { TraceRecorder } from '../trace/recorder.js';
import { connectionTable, type ConnRow } from '../stack/table.js';
import { SSTHRESH_INITIAL } from '../tcp/cc/types.js';
import { formatIpv4Address } from '../wire/ipv4addr.js';
import type { Scenario, ScenarioResult } from './types.js';
import { pktInfo, withRunContext, type World } from './common.js';

export interface RunSetup {
  /** Seeds ISNs, ports, timestamps (default 1). */
  seed?: number;
  /** Stack options (named like the Linux sysctls) for both hosts, over the scenario's own. */
  sysctls?: Partial<StackOptions>;
  /** Ordinals of sent segments for the link to drop (see the header). */
  drops?: readonly number[];
  /** Record TCB snapshots for stepping (the lab); off by default (costs time and memory). */
  snapshots?: boolean;
}

/** One connection as its TCB panel shows it. Sequence numbers absolute; timers as deadlines. */
export interface TcbSnapshot {
  /** "198.18.0.1:40000-198.18.0.2:80" from this host's side. */
  conn: string;
  state: TcpState;
  iss: number; irs: number;
  sndUna: number; sndNxt: number; sndWnd: number;
  rcvNxt: number; rcvWnd: number;
  cwnd: number; ssthresh: number | null; mss: number;
  srtt: number; rto: number; rttValid: boolean;
  /** Armed timers: name and the virtual instant they fire. */
  timers: Array<{ name: string; at: number }>;
}

export interface HostSnapshot {
  /** Virtual time the snapshot was taken. */
  t: number;
  tcbs: TcbSnapshot[];
  /** The `ss -tanoi` rows; timer.remaining is relative to `t`. */
  table: ConnRow[];
}

export interface ScenarioRun {
  scenario: Scenario;
  setup: Required<Pick<RunSetup, 'seed'>> & RunSetup;
  result: ScenarioResult;
  /** Every check passed. */
  ok: boolean;
  /** result.recorder.events. */
  events: RecordedEvent[];
  /** Per event: its ordinal among the sent segments, or -1. */
  ordinal: number[];
  /** Dotted address → role, from the result. */
  hosts: Record<string, string>;
  /**
   * With setup.snapshots: for step k (events 0..k shown), each host's TCBs as they were once
   * event k and everything at that instant before the next event had been processed.
   */
  snapshotAt(k: number): Record<string, HostSnapshot>;
}

/** The sysctls the lab offers, with Linux's defaults (synack's DEFAULT_STACK_OPTIONS). */
export const LAB_SYSCTLS = [
  'tcp_syn_retries', 'tcp_synack_retries', 'tcp_fin_timeout', 'tcp_keepalive_time', 'tcp_keepalive_intvl',
  'tcp_keepalive_probes', 'tcp_syncookies', 'tcp_max_syn_backlog', 'tcp_msl', 'tcp_tw_reuse', 'tcp_timestamps',
  'tcp_sack', 'tcp_window_scaling', 'tcp_rto_initial', 'tcp_max_orphans', 'tcp_rfc1337',
] as const satisfies ReadonlyArray<keyof StackOptions>;

export type LabSysctl = typeof LAB_SYSCTLS[number];

/**
 * Parse "name=value" into a sysctl override. Numbers only (the lab's sysctls are all
 * numeric); a typed error with code ERR_INVALID_ARG_VALUE otherwise.
 */
export function parseSysctl(s: string): [keyof StackOptions, number] {
  const m = /^(?:net\.ipv4\.)?([a-z_0-9]+)\s*=\s*(.+)$/.exec(s.trim());
  const fail = (why: string): never => {
    const e = new TypeError(`--set ${s}: ${why}`) as TypeError & { code: string };
    e.code = 'ERR_INVALID_ARG_VALUE';
    throw e;
  };
  if (m === null) return fail('expected name=value, e.g. tcp_syn_retries=3');
  const name = m[1]! as keyof StackOptions;
  if (!(name in DEFAULT_STACK_OPTIONS)) return fail(`no sysctl '${m[1]}' (known: ${Object.keys(DEFAULT_STACK_OPTIONS).join(', ')})`);
  if (typeof DEFAULT_STACK_OPTIONS[name] !== 'number') return fail(`${name} is not a number option`);
  const v = Number(m[2]);
  if (!Number.isFinite(v) || v < 0) return fail(`value must be a number >= 0, got '${m[2]}'`);
  return [name, v];
}

/** Add a drop at `ordinal`: drops after it no longer mean anything and are removed. */
export function addDrop(drops: readonly number[], ordinal: number): number[] {
  return [...drops.filter((d) => d < ordinal), ordinal];
}

interface WorldTap { w: World; ordinal: number[]; snaps: Array<Record<string, HostSnapshot> | undefined> }

/** Run `sc` with a setup. Never throws for a failing check (see `ok`); a bad sysctl value throws RangeError (code ERR_OUT_OF_RANGE). */
export function runScenario(sc: Scenario, setup: RunSetup = {}): ScenarioRun {
  const seed = setup.seed ?? 1;
  const drops = new Set(setup.drops ?? []);
  const taps: WorldTap[] = [];
  const ctx = {
    sysctls: setup.sysctls,
    onWorld(w: World): void {
      const tap: WorldTap = { w, ordinal: [], snaps: [] };
      taps.push(tap);
      let scanned = 0, count = 0;
      const scan = (): void => {
        for (; scanned < w.rec.events.length; scanned++) {
          const e = w.rec.events[scanned]!;
          tap.ordinal.push(e.type === 'segment' && e.dir === 'out' ? count++ : -1);
        }
      };
      if (drops.size > 0) {
        // The stack records a segment, then hands its packet to the link: the packet is the
        // most recent matching 'out' event of its sender.
        const pred = (p: Uint8Array): boolean => {
          const i = pktInfo(p);
          if (i === null) return false;
          scan();
          for (let k = w.rec.events.length - 1; k >= 0 && k >= w.rec.events.length - 64; k--) {
            const e = w.rec.events[k]!;
            if (e.type !== 'segment' || e.dir !== 'out' || e.host !== i.src) continue;
            if (e.conn.localPort === i.srcPort && e.conn.remotePort === i.dstPort && (e.seq >>> 0) === (i.seq >>> 0) && e.flags === i.flags) {
              return drops.has(tap.ordinal[k]!);
            }
          }
          return false;
        };
        w.faultA.dropWhen(pred);
        w.faultB.dropWhen(pred);
      }
      if (setup.snapshots === true) {
        const take = (): void => {
          // Taken when event j is about to be recorded by us: everything before j is done.
          const j = w.rec.events.length - 1;
          if (j >= 0 && tap.snaps[j] === undefined) tap.snaps[j] = snapshotHosts(w.a, w.b);
        };
        w.a.addTraceListener(take);
        w.b.addTraceListener(take);
      }
    },
  };
  const result = withRunContext(ctx, () => sc.run({ seed }));
  const tap = taps.find((t) => t.w.rec === result.recorder) ?? null;
  const events = result.recorder.events;
  const ordinal = ordinals(result.recorder);
  const final = tap !== null ? snapshotHosts(tap.w.a, tap.w.b) : snapshotStacks(result);
  // Step k shows the state before the first later event that has a snapshot.
  const next: number[] = new Array(events.length).fill(-1);
  if (tap !== null) {
    let n = -1;
    for (let k = events.length - 1; k >= 0; k--) { next[k] = n; if (tap.snaps[k] !== undefined) n = k; }
  }
  return {
    scenario: sc,
    setup: { ...setup, seed },
    result,
    ok: result.checks.every((c) => c.ok),
    events,
    ordinal,
    hosts: result.hosts,
    snapshotAt(k: number): Record<string, HostSnapshot> {
      if (tap === null || k < 0) return tap !== null && tap.snaps[0] !== undefined ? tap.snaps[0] : final;
      const j = next[Math.min(k, events.length - 1)] ?? -1;
      return j >= 0 ? tap.snaps[j]! : final;
    },
  };
}

/** Ordinals of the sent segments of a recorded run (-1 for other events). */
export function ordinals(rec: TraceRecorder): number[] {
  let n = 0;
  return rec.events.map((e) => (e.type === 'segment' && e.dir === 'out' ? n++ : -1));
}

function snapshotStacks(r: ScenarioResult): Record<string, HostSnapshot> {
  const out: Record<string, HostSnapshot> = {};
  for (const s of Object.values(r.stacks)) out[formatIpv4Address(s.traceHost)] = snapshotStack(s);
  return out;
}

function snapshotHosts(a: Stack, b: Stack): Record<string, HostSnapshot> {
  return { [formatIpv4Address(a.traceHost)]: snapshotStack(a), [formatIpv4Address(b.traceHost)]: snapshotStack(b) };
}

function snapshotStack(s: Stack): HostSnapshot {
  const t = s.now();
  const tcbs: TcbSnapshot[] = [];
  for (const tcb of s.tcbs()) {
    if (tcb.state === 'CLOSED') continue;
    const timers: Array<{ name: string; at: number }> = [];
    const add = (name: string, at: number): void => { if (at !== Infinity) timers.push({ name, at }); };
    add(tcb.state === 'SYN-SENT' ? 'syn' : tcb.state === 'SYN-RECEIVED' ? 'synack' : 'rto', tcb.rtoAt);
    add('persist', tcb.persistAt);
    add('delack', tcb.delackAt);
    add('keepalive', tcb.keepaliveAt);
    add('time-wait', tcb.timeWaitAt);
    add('fin-wait-2', tcb.finWait2At);
    const st = tcb.status();
    tcbs.push({
      conn: `${formatIpv4Address(tcb.localAddr)}:${tcb.localPort}-${formatIpv4Address(tcb.remoteAddr)}:${tcb.remotePort}`,
      state: tcb.state, iss: tcb.iss >>> 0, irs: tcb.irs >>> 0,
      sndUna: st.sndUna >>> 0, sndNxt: st.sndNxt >>> 0, sndWnd: st.sndWnd, rcvNxt: st.rcvNxt >>> 0, rcvWnd: st.rcvWnd,
      cwnd: st.cwnd, ssthresh: st.ssthresh >= SSTHRESH_INITIAL ? null : st.ssthresh, mss: st.mss,
      srtt: st.srtt, rto: st.rto, rttValid: tcb.rtt.hasSample, timers,
    });
  }
  return { t, tcbs, table: connectionTable(s, t) };
}
