// The packetdrill dialect as data: what the parser produces and the interpreter runs.
// Times are integer microseconds; sequence numbers are script-relative (each side's ISN
// is 0), exactly as written in the script.

/** A time as written: `1.5` (absolute) or `+1.5` (relative to the previous event). */
export interface TimePoint {
  rel: boolean;
  us: number;
}

/** When an event happens: a point, any time (`*`), or a range `A~B`. */
export type TimeSpec =
  | { kind: 'point'; at: TimePoint }
  | { kind: 'any' }
  | { kind: 'range'; lo: TimePoint; hi: TimePoint };

/** One TCP option as written inside `<...>`. Values are script-relative. */
export type OptSpec =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'ts'; val: number; ecr: number };

/** Syscall argument / result expressions. */
export type Expr =
  | { kind: 'ellipsis' }
  | { kind: 'int'; value: number }
  | { kind: 'sym'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'or'; parts: Expr[] }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'struct'; fields: Array<{ name: string; value: Expr }> }
  | { kind: 'call'; name: string; args: Expr[] };

interface EventBase {
  /** 1-based line of the event in the script. */
  line: number;
  time: TimeSpec;
  /** The event's source text (one logical line), for messages. */
  text: string;
}

export interface PacketEvent extends EventBase {
  type: 'packet';
  /** `<` inbound (the script sends it), `>` outbound (the stack must send it). */
  dir: 'in' | 'out';
  /** TCP flag bits (TCP_SYN …), and the letters as written. */
  flags: number;
  flagText: string;
  start: number;
  end: number;
  len: number;
  /** nplab `...(LEN)`: any sequence number (outbound only; not compared). */
  seqAny: boolean;
  /** `start:end(len)!`: absolute sequence numbers (not relative to the ISN). */
  seqAbs: boolean;
  ack: number | null;
  /** `ack N` on a segment without the `.` flag: the raw header field, not ISN-relative. */
  ackRaw: boolean;
  win: number | null;
  urg: number | null;
  /** null: no `<...>` written (no options); 'any': `<...>`. */
  options: OptSpec[] | 'any' | null;
}

export interface SyscallEvent extends EventBase {
  type: 'syscall';
  name: string;
  args: Expr[];
  /** Expected return value (usually an int; `...` accepts anything). */
  result: Expr;
  /** Expected errno name when the result is -1 (e.g. ECONNREFUSED). */
  errno: string | null;
  /** `+S...E call`: the time the call must return by (a blocking call). */
  end: TimePoint | null;
}

export interface ShellEvent extends EventBase {
  type: 'shell';
  command: string;
}

/** A `%{ python }%` block: packetdrill runs it with the socket's tcp_info (tcpi_*) in scope. */
export interface PythonEvent extends EventBase {
  type: 'python';
  code: string;
  /** Line where the block starts. */
  codeLine: number;
}

export type ScriptEvent = PacketEvent | SyscallEvent | ShellEvent | PythonEvent;

export interface Script {
  /** `--name=value` option lines, in order (value '' for a bare `--flag`). */
  options: Array<{ name: string; value: string; line: number }>;
  events: ScriptEvent[];
  /** `%{ python }%` blocks found. */
  pythonBlocks: number;
  /** Names defined for this run (`--define`, `-D`, the personality's OS name). */
  defines: ReadonlyMap<string, string>;
}

export interface ScriptError {
  line: number;
  message: string;
}

export type ParseOutcome = { ok: true; script: Script } | { ok: false; error: ScriptError };
