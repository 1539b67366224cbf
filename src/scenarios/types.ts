// The textbook scenarios (SPEC "The textbook scenarios"): each one builds a small simulated
// network, plays one case of TCP connection management in virtual time, records the trace,
// and checks that the stack did what the RFCs say it should.
import type { TraceRecorder } from '../trace/recorder.js';
import type { ConnId } from '../trace/events.js';
import type { Stack } from '../stack/stack.js';

export type Lang = 'en' | 'zh';

/** A text in English and Chinese. */
export interface Text { en: string; zh: string }

/** One assertion of a scenario. `what` is English; `zh` its Chinese wording. */
export interface ScenarioCheck {
  what: string;
  zh?: string;
  ok: boolean;
  /** Observed values (numbers, times), language-neutral. */
  detail?: string;
}

export interface ScenarioResult {
  recorder: TraceRecorder;
  checks: ScenarioCheck[];
  /** Dotted IPv4 address → role ('client' | 'server' | …), for diagram column names. */
  hosts: Record<string, string>;
  /** The stacks of the run, by role. */
  stacks: Record<string, Stack>;
  /** The connection the diagram should show, when the run has several (or foreign traffic). */
  conn?: ConnId;
  /** Draw absolute sequence numbers (when relative ones would hide the point). */
  absolute?: boolean;
}

export interface RunOptions {
  /** Seeds ISNs, ports, timestamps and any randomized faults. */
  seed: number;
}

export interface Scenario {
  name: string;
  title: Text;
  /** A short textbook-quality explanation of why the protocol behaves so. */
  explain: Text;
  /** A what-if that breaks TCP on purpose: what it changes. Such runs are labelled NOT TCP. */
  notTcp?: Text;
  run(opts: RunOptions): ScenarioResult;
}
